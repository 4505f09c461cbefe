// SigV4 signing for execute-api: the headers a request needs, computed by the AWS signer over method, URL and body.
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { CliError, EXIT } from '../errors.ts';

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** Returns the full header set to send (the input's plus authorization, x-amz-date, security token...). */
export type RequestSigner = (request: SignableRequest) => Promise<Record<string, string>>;

/** What the signer accepts: fixed credentials or a provider (such as the default chain). */
export type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

export interface SignerOptions {
  region: string;
  service: string;
  credentials: Credentials;
  /** Fixed signing time (tests). */
  signingDate?: Date;
}

export function createSigV4Signer(options: SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  return async (request) => {
    const query: Record<string, string> = {};
    for (const [k, v] of request.url.searchParams) query[k] = v;
    const unsigned = new HttpRequest({
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port && { port: Number(request.url.port) }),
      path: request.url.pathname,
      query,
      // The host header is part of every signature; fetch sends the same value from the URL.
      headers: { ...request.headers, host: request.url.host },
      ...(request.body !== undefined && { body: request.body }),
    });
    let signed: HttpRequest;
    try {
      signed = (await signer.sign(unsigned, {
        ...(options.signingDate && { signingDate: options.signingDate }),
      })) as HttpRequest;
    } catch (err) {
      throw credentialsError(err);
    }
    return { ...signed.headers };
  };
}

/** Signing fails only when no credentials resolve: say where the chain looked and how to fix it. */
function credentialsError(err: unknown): CliError {
  const why = err instanceof Error ? err.message : String(err);
  return new CliError(`no AWS credentials for SigV4: ${why}`, EXIT.auth, [
    'the standard chain was tried: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, SSO, web identity, container and instance roles',
    'set AWS_PROFILE (and run `aws sso login` for SSO), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  ]);
}

/** The default credential chain, loaded only when a request is actually signed (it is a heavy import). */
export async function defaultCredentialChain(): Promise<Credentials> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  return fromNodeProviderChain();
}
