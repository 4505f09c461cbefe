// Secrets from Secrets Manager (cached per container for a bounded time) or plain values in local mode.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type Config, ConfigError } from '../config.ts';
import { UpstreamError } from '../core/errors.ts';

/** What an API-key secret created by the stack holds until the user puts the real key in (docs/deploy.md). */
export const API_KEY_PLACEHOLDER = 'REPLACE_WITH_UPSTREAM_API_KEY';

export interface SecretCacheOptions {
  /** How long a value is used before it is read again, so a rotated secret is picked up without a cold start. */
  ttlMs: number;
  now?: () => number;
}

interface Entry {
  value: Promise<string>;
  expiresAt: number;
  /** The last value read successfully: used when a refresh fails, until a refresh succeeds. */
  lastGood?: string;
}

/** Reads secret strings and keeps each for `ttlMs`; a failed read is never cached. */
export class SecretCache {
  private readonly cache = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: () => SecretsManagerClient,
    options: SecretCacheOptions = { ttlMs: 5 * 60_000 },
  ) {
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
  }

  get(secretId: string): Promise<string> {
    const entry = this.cache.get(secretId);
    if (entry && this.now() < entry.expiresAt) return entry.value;
    const lastGood = entry?.lastGood;
    const next: Entry = { value: Promise.resolve(''), expiresAt: this.now() + this.ttlMs, lastGood };
    next.value = this.fetch(secretId).then(
      (value) => {
        next.lastGood = value;
        return value;
      },
      (error: unknown) => {
        // A refresh that fails keeps serving the last good value; a first read that fails is retried next time.
        if (lastGood !== undefined) return lastGood;
        if (this.cache.get(secretId) === next) this.cache.delete(secretId);
        throw error;
      },
    );
    this.cache.set(secretId, next);
    return next.value;
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

/**
 * An API-key secret that still holds the stack's placeholder: the key was never put in. An upstream failure that
 * certainly sent nothing, so a submit is recorded REJECTED with this reason and its client is told what to fill.
 */
export class ApiKeyNotSetError extends UpstreamError {
  constructor(endpoint: string, where: string) {
    super(
      'UPSTREAM_API_KEY_NOT_SET',
      `The API key of endpoint "${endpoint}" is still the placeholder ${API_KEY_PLACEHOLDER}: put the upstream ` +
        `API key in ${where} (aws secretsmanager put-secret-value --secret-id <it> --secret-string <key>, ` +
        'docs/deploy.md step 5). Nothing was sent upstream.',
      'credentials',
      true,
      { endpoint },
    );
  }
}

/** API key of an endpoint: a plain value in local mode, a Secrets Manager secret in AWS; never the placeholder. */
export function apiKeyResolver(
  config: Pick<Config, 'UPSTREAM_API_KEYS' | 'UPSTREAM_API_KEY_SECRETS'>,
  secrets: SecretCache,
) {
  return async (endpoint: string): Promise<string> => {
    const plain = config.UPSTREAM_API_KEYS?.[endpoint];
    if (plain) {
      if (plain === API_KEY_PLACEHOLDER) throw new ApiKeyNotSetError(endpoint, 'UPSTREAM_API_KEYS');
      return plain;
    }
    const secretId = config.UPSTREAM_API_KEY_SECRETS?.[endpoint];
    if (secretId) {
      const key = await secrets.get(secretId);
      if (key === API_KEY_PLACEHOLDER) throw new ApiKeyNotSetError(endpoint, `the secret ${secretId}`);
      return key;
    }
    throw new ConfigError(
      `No API key for endpoint "${endpoint}": set UPSTREAM_API_KEYS or UPSTREAM_API_KEY_SECRETS`,
    );
  };
}

/** The webhook HMAC secret: a plain value in local mode, a Secrets Manager secret in AWS. */
export function webhookSecretResolver(
  config: Pick<Config, 'WEBHOOK_SECRET' | 'WEBHOOK_SECRET_ID'>,
  secrets: SecretCache,
) {
  return async (): Promise<string> => {
    if (config.WEBHOOK_SECRET) return config.WEBHOOK_SECRET;
    if (config.WEBHOOK_SECRET_ID) {
      const secret = await secrets.get(config.WEBHOOK_SECRET_ID);
      if (secret.length < 32)
        throw new ConfigError('WEBHOOK_SECRET_ID: the secret must be at least 32 characters');
      return secret;
    }
    throw new ConfigError('WEBHOOK_SECRET or WEBHOOK_SECRET_ID must be set');
  };
}
