// upstreamClientFromConfig wires endpoints, timeout and the configured limits from the parsed config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamClientFromConfig } from '../../../../functions/adapters/upstream/from-config.ts';
import type { FetchLike } from '../../../../functions/adapters/upstream/index.ts';
import { parseConfig } from '../../../../functions/config.ts';
import { type FakeUpstream, fixture, flush, startFakeUpstream } from './fake-upstream.ts';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream.close());

function config(extra: Record<string, string> = {}) {
  return parseConfig({
    UPSTREAM_ENDPOINTS: JSON.stringify({
      default: `${upstream.origin}/v2/ep`,
      sdxl: `${upstream.origin}/api/v1/sl/i9`,
    }),
    PUBLIC_BASE_URL: 'https://archiver.example',
    JOBS_TABLE: 'jobs',
    ARCHIVE_BUCKET: 'archive',
    ...extra,
  });
}

describe('upstreamClientFromConfig', () => {
  it('calls the configured endpoints with the key the resolver gives', async () => {
    upstream.reply({ body: fixture('status-completed-text.json') });
    const client = upstreamClientFromConfig(config(), async (endpoint) => `key-${endpoint}`);
    await client.status('sdxl', 'j1');
    expect(upstream.requests[0]).toMatchObject({
      path: '/api/v1/sl/i9/status/j1',
      headers: expect.objectContaining({ authorization: 'Bearer key-sdxl' }),
    });
  });

  it('applies STATUS_CONCURRENCY, RUN_CONCURRENCY and CANCEL_CONCURRENCY', async () => {
    const open: (() => void)[] = [];
    const seen: string[] = [];
    const fetch: FetchLike = (url) => {
      seen.push(new URL(url).pathname.split('/')[3] ?? '');
      return new Promise((resolve) => open.push(() => resolve(new Response(fixture('run-in-queue.json')))));
    };
    const client = upstreamClientFromConfig(
      config({ STATUS_CONCURRENCY: '1', RUN_CONCURRENCY: '2', CANCEL_CONCURRENCY: '1' }),
      async () => 'k',
      { fetch },
    );
    for (let i = 0; i < 3; i++) {
      void client.status('default', `s${i}`);
      void client.run('default', { input: {} });
      void client.cancel('default', `c${i}`);
    }
    await flush();
    expect(seen.sort()).toEqual(['cancel', 'run', 'run', 'status']);
    for (const answer of open.splice(0)) answer();
  });

  it('uses UPSTREAM_TIMEOUT_MS', async () => {
    upstream.reply({ hang: true });
    const client = upstreamClientFromConfig(config({ UPSTREAM_TIMEOUT_MS: '100' }), async () => 'k', {
      retry: { maxAttempts: 1 },
    });
    await expect(client.health('default')).rejects.toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      details: { timeoutMs: 100 },
    });
  });
});
