// Which credentials a request carries: none (local), a bearer token (local with ARCHIVER_TOKEN) or SigV4 (AWS).
import { UsageError } from '../errors.ts';

export type AuthMode =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'sigv4'; region: string; service: 'execute-api' };

export interface AuthInputs {
  apiUrl: URL;
  token?: string;
  sigv4: boolean;
  region?: string;
  env: Record<string, string | undefined>;
}

/** `{api-id}.execute-api.{region}.amazonaws.com`: the region is in the name. */
export function regionFromHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/i.exec(hostname)?.[1]?.toLowerCase();
}

export function isAwsHost(hostname: string): boolean {
  return /\.amazonaws\.com$/i.test(hostname);
}

/**
 * An explicit token wins over the automatic choice of SigV4 for *.amazonaws.com (an API behind another
 * authorizer); asking for both explicitly is a mistake, as both use the Authorization header.
 */
export function resolveAuth(inputs: AuthInputs): AuthMode {
  const token = inputs.token?.trim() || undefined;
  if (token && inputs.sigv4)
    throw new UsageError('--sigv4 and a bearer token both use the Authorization header; pick one');
  if (token) return { kind: 'bearer', token };
  if (!inputs.sigv4 && !isAwsHost(inputs.apiUrl.hostname)) return { kind: 'none' };
  const region =
    inputs.region?.trim() ||
    regionFromHost(inputs.apiUrl.hostname) ||
    inputs.env.AWS_REGION?.trim() ||
    inputs.env.AWS_DEFAULT_REGION?.trim();
  if (!region)
    throw new UsageError(`cannot tell the AWS region of ${inputs.apiUrl.host} for SigV4`, [
      'pass --region REGION or set AWS_REGION',
    ]);
  return { kind: 'sigv4', region, service: 'execute-api' };
}

/** The API base URL: --api, else ARCHIVER_API_URL, else the local stack's default port. */
export function resolveApiUrl(flag: string | undefined, env: Record<string, string | undefined>): URL {
  const text = flag?.trim() || env.ARCHIVER_API_URL?.trim() || 'http://127.0.0.1:8787';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not a URL (want e.g. http://127.0.0.1:8787)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`the API URL must be http or https, got ${url.protocol}`);
  if (url.search || url.hash) throw new UsageError('the API URL takes no query string or fragment');
  return url;
}
