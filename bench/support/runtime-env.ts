// Environments for runtimes the benchmarks build themselves (sweeper, big outputs), like local mode's.
import { randomBytes } from 'node:crypto';
import type { BenchStores } from './stores.ts';

/** The archiver configuration for one upstream base URL over the bench stores and the given table. */
export function runtimeEnv(
  stores: Pick<BenchStores, 'bucket'>,
  table: string,
  upstream: { baseUrl: string; apiKey: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    UPSTREAM_ENDPOINTS: JSON.stringify({ default: upstream.baseUrl }),
    UPSTREAM_API_KEYS: JSON.stringify({ default: upstream.apiKey }),
    // Nothing calls back in these benchmarks; the URL only has to be valid.
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    WEBHOOK_SECRET: randomBytes(32).toString('base64url'),
    JOBS_TABLE: table,
    ARCHIVE_BUCKET: stores.bucket,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}
