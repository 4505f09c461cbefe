// Secrets: the cache expires so a rotated key is picked up, and a placeholder API key never goes upstream.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import {
  API_KEY_PLACEHOLDER,
  ApiKeyNotSetError,
  apiKeyResolver,
  SecretCache,
} from '../../../functions/adapters/secrets.ts';
import { upstreamClientFromConfig } from '../../../functions/adapters/upstream/index.ts';
import { parseConfig } from '../../../functions/config.ts';

function cacheWith(values: (string | Error)[], ttlMs: number) {
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  let call = 0;
  mock.on(GetSecretValueCommand).callsFake(() => {
    const value = values[Math.min(call++, values.length - 1)];
    if (value instanceof Error) throw value;
    return { SecretString: value };
  });
  let now = 1_000_000;
  const cache = new SecretCache(() => client, { ttlMs, now: () => now });
  return { cache, mock, advance: (ms: number) => (now += ms), calls: () => call };
}

describe('SecretCache', () => {
  it('reads a secret once within the TTL, and again after it, so a rotated key is picked up', async () => {
    const { cache, advance, calls } = cacheWith(['old-key', 'new-key'], 300_000);
    expect(await cache.get('s')).toBe('old-key');
    advance(299_999);
    expect(await cache.get('s')).toBe('old-key');
    expect(calls()).toBe(1);
    advance(1);
    expect(await cache.get('s')).toBe('new-key');
    expect(calls()).toBe(2);
  });

  it('keeps serving the last good value when a refresh fails, and retries a failed first read', async () => {
    const { cache, advance } = cacheWith(['key', new Error('throttled'), 'key-2'], 1000);
    expect(await cache.get('s')).toBe('key');
    advance(1000);
    expect(await cache.get('s')).toBe('key');
    advance(1000);
    expect(await cache.get('s')).toBe('key-2');

    const first = cacheWith([new Error('down'), 'key'], 1000);
    await expect(first.cache.get('s')).rejects.toThrow('down');
    expect(await first.cache.get('s')).toBe('key');
  });
});

describe('apiKeyResolver', () => {
  it('refuses the placeholder naming the secret to fill, and never returns it as a bearer token', async () => {
    const { cache } = cacheWith([API_KEY_PLACEHOLDER], 1000);
    const secretId = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ApiKey-default-AbCdEf';
    const resolve = apiKeyResolver({ UPSTREAM_API_KEY_SECRETS: { default: secretId } }, cache);
    const error = await resolve('default').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiKeyNotSetError);
    // Certainly not accepted upstream: a submit is recorded REJECTED with this reason, its key freed.
    expect(error).toMatchObject({ code: 'UPSTREAM_API_KEY_NOT_SET', certainlyNotAccepted: true });
    expect((error as Error).message).toContain(secretId);
    expect((error as Error).message).toContain('put-secret-value');
    expect((error as Error).message).toContain('endpoint "default"');
  });

  it('refuses a placeholder given as a plain local key too, and passes a real key through', async () => {
    const { cache } = cacheWith(['real-key'], 1000);
    await expect(
      apiKeyResolver({ UPSTREAM_API_KEYS: { default: API_KEY_PLACEHOLDER } }, cache)('default'),
    ).rejects.toThrow(/UPSTREAM_API_KEYS/);
    const resolve = apiKeyResolver({ UPSTREAM_API_KEY_SECRETS: { default: 'secret-id' } }, cache);
    expect(await resolve('default')).toBe('real-key');
  });

  it('stops the upstream client before any request: the placeholder never leaves as a bearer token', async () => {
    const { cache } = cacheWith([API_KEY_PLACEHOLDER], 1000);
    const config = parseConfig({
      UPSTREAM_ENDPOINTS: JSON.stringify({ default: 'https://upstream.invalid/v2/x' }),
      UPSTREAM_API_KEY_SECRETS: JSON.stringify({ default: 'ApiKey-default' }),
      PUBLIC_BASE_URL: 'https://api.invalid',
      JOBS_TABLE: 'jobs',
      ARCHIVE_BUCKET: 'archive',
    });
    const fetch = vi.fn();
    const upstream = upstreamClientFromConfig(config, apiKeyResolver(config, cache), { fetch });
    await expect(upstream.run('default', { input: {} })).rejects.toBeInstanceOf(ApiKeyNotSetError);
    await expect(upstream.status('default', 'up-1')).rejects.toThrow(/ApiKey-default/);
    expect(fetch).not.toHaveBeenCalled();
  });
});
