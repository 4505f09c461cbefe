// Secrets resolved once per container: Secrets Manager in AWS, plain values in local mode.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** What an API-key secret created by the stack holds until the user puts the real key in (docs/deploy.md). */
export const API_KEY_PLACEHOLDER = 'REPLACE_WITH_UPSTREAM_API_KEY';

/** Reads a secret string once and caches it for the life of the container. */
export class SecretCache {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(private readonly client: () => SecretsManagerClient) {}

  get(secretId: string): Promise<string> {
    let value = this.cache.get(secretId);
    if (!value) {
      value = this.fetch(secretId);
      // A failed read is not cached, so the next invocation tries again.
      value.catch(() => this.cache.delete(secretId));
      this.cache.set(secretId, value);
    }
    return value;
  }

  private async fetch(secretId: string): Promise<string> {
    const out = await this.client().send(new GetSecretValueCommand({ SecretId: secretId }));
    const text = out.SecretString;
    if (!text) throw new Error(`Secret ${secretId} has no string value`);
    return secretValue(text);
  }
}

/** A secret may hold the value itself or JSON with an `apiKey`/`secret`/`value` field. */
export function secretValue(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  try {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    for (const field of ['apiKey', 'secret', 'value']) {
      const v = parsed[field];
      if (typeof v === 'string' && v) return v;
    }
  } catch {
    // not JSON after all: use it as it is
  }
  return trimmed;
}
