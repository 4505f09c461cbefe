// Secrets for the functions that need them: one Secrets Manager cache per container, entries expiring.
import { getSecretsManagerClient } from '../adapters/aws-clients.ts';
import { SecretCache, webhookSecretResolver } from '../adapters/secrets.ts';
import type { PartContext } from './function-runtime.ts';

let cache: SecretCache | undefined;

/** The container's secret cache, created (with the configured TTL) by the first part that reads a secret. */
export function containerSecrets({ config }: PartContext): SecretCache {
  cache ??= new SecretCache(getSecretsManagerClient, { ttlMs: config.SECRET_CACHE_TTL_MS });
  return cache;
}

export const webhookSecret = (context: PartContext) =>
  webhookSecretResolver(context.config, containerSecrets(context));
