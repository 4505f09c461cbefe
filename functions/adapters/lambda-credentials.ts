// The credential chain of the function bundles, in place of the SDK's default one: Lambda's own two sources only.
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import type { AwsCredentialIdentity, Logger } from '@smithy/types';

/**
 * The esbuild settings (lib/bundling.ts) alias `@aws-sdk/credential-provider-node` to this module, so every
 * client's runtime config gets this `defaultProvider`. Lambda hands a function its role's credentials in the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), or, under SnapStart, through a
 * container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI and its token). The SDK's chain also carries SSO, INI
 * profiles, credential processes and web identity with their own STS and SSO clients, about 95 KB that every
 * cold start compiled and Lambda never runs. Local mode and the tests run from source with the full chain.
 */
export interface LambdaCredentialsInit {
  logger?: Logger;
  [option: string]: unknown;
}

export const NO_LAMBDA_CREDENTIALS =
  'No AWS credentials: the function bundle reads them from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ' +
  '(with AWS_SESSION_TOKEN), or from AWS_CONTAINER_CREDENTIALS_FULL_URI / AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, ' +
  'as Lambda sets them; profiles, SSO and credential processes are not part of the bundle.';

/** Same name and call shape as the SDK's `defaultProvider`: the clients call it once, then memoize what it returns. */
export function defaultProvider(init: LambdaCredentialsInit = {}): () => Promise<AwsCredentialIdentity> {
  return async () => {
    // Read at call time, as the SDK's chain does: a test or runtime may set the environment after import.
    const env = process.env;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return fromEnv(init)();
    if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
      return fromHttp(init)();
    }
    throw new Error(NO_LAMBDA_CREDENTIALS);
  };
}
