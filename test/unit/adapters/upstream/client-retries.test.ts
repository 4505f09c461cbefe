// Which calls are retried, how often and after how long; /run is never re-sent when it may have been taken.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamConnectionLostError } from '../../../../functions/adapters/upstream/error-mapping.ts';
import {
  createUpstreamClient,
  type FetchLike,
  type UpstreamClientOptions,
  type UpstreamEvent,
} from '../../../../functions/adapters/upstream/index.ts';
import {
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnauthorizedError,
  UpstreamUnreachableError,
} from '../../../../functions/core/errors.ts';
import { closedPort, type FakeUpstream, fixture, startFakeUpstream } from './fake-upstream.ts';

let upstream: FakeUpstream;
let downPort: number;
const sleeps: number[] = [];
const events: UpstreamEvent[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  downPort = await closedPort();
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.reset();
  sleeps.length = 0;
  events.length = 0;
});

/** A client whose backoff sleeps are recorded and skipped, with jitter fixed at half the ceiling. */
function client(overrides: Partial<UpstreamClientOptions> = {}) {
  return createUpstreamClient({
    endpoints: { default: `${upstream.origin}/v2/ep`, down: `http://127.0.0.1:${downPort}/v2/ep` },
    apiKey: async () => 'k',
    retry: { maxAttempts: 4, baseBackoffMs: 200, maxBackoffMs: 10_000 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onEvent: (event) => events.push(event),
    ...overrides,
  });
}

const retries = () => events.filter((e) => e.type === 'retry');

describe('safe operations (status, status-sync, stream, health, cancel)', () => {
  it('status retries 5xx with exponential full-jitter backoff, then succeeds', async () => {
    upstream.reply(
      { status: 503 },
      { status: 500 },
      { status: 502 },
      { body: fixture('status-completed-text.json') },
    );
    const fetched = await client().status('default', 'j');
    expect(fetched.status.status).toBe('COMPLETED');
    expect(upstream.requests).toHaveLength(4);
    // random 0.5 of ceilings 200, 400, 800.
    expect(sleeps).toEqual([100, 200, 400]);
    expect(retries()).toEqual([
      {
        type: 'retry',
        endpoint: 'default',
        operation: 'status',
        attempt: 1,
        delayMs: 100,
        code: 'UPSTREAM_SERVER_ERROR',
      },
      {
        type: 'retry',
        endpoint: 'default',
        operation: 'status',
        attempt: 2,
        delayMs: 200,
        code: 'UPSTREAM_SERVER_ERROR',
      },
      {
        type: 'retry',
        endpoint: 'default',
        operation: 'status',
        attempt: 3,
        delayMs: 400,
        code: 'UPSTREAM_SERVER_ERROR',
      },
    ]);
  });

  it('status gives up after maxAttempts and throws the last error', async () => {
    upstream.reply({ status: 500 }, { status: 500 }, { status: 503 });
    await expect(client({ retry: { maxAttempts: 3 } }).status('default', 'j')).rejects.toMatchObject({
      code: 'UPSTREAM_SERVER_ERROR',
      details: { status: 503 },
    });
    expect(upstream.requests).toHaveLength(3);
  });

  it('status honours Retry-After on 429', async () => {
    upstream.reply(
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 429, headers: { 'retry-after': '1' } },
      { body: fixture('status-completed-text.json') },
    );
    await client().status('default', 'j');
    expect(sleeps).toEqual([3000, 1000]);
  });

  it('a Retry-After longer than the backoff cap is not waited for: the 429 goes to the caller', async () => {
    upstream.reply({ status: 429, headers: { 'retry-after': '60' } });
    const error = client().status('default', 'j');
    await expect(error).rejects.toBeInstanceOf(UpstreamRateLimitedError);
    await expect(error).rejects.toMatchObject({ retryAfterMs: 60_000 });
    expect(upstream.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('status-sync, stream, health and cancel retry a 5xx too', async () => {
    const c = client();
    upstream.reply({ status: 500 }, { body: fixture('status-completed-text.json') });
    await c.statusSync('default', 'j', { waitMs: 1000 });
    upstream.reply({ status: 500 }, { body: fixture('stream-in-progress.json') });
    await c.stream('default', 'j');
    upstream.reply({ status: 500 }, { body: fixture('health.json') });
    await c.health('default');
    upstream.reply({ status: 500 }, { body: fixture('cancel-cancelled.json') });
    await c.cancel('default', 'j');
    expect(upstream.requests).toHaveLength(8);
  });

  it('status retries a dropped connection', async () => {
    upstream.reply({ destroy: true }, { body: fixture('status-completed-text.json') });
    await client().status('default', 'j');
    expect(upstream.requests).toHaveLength(2);
  });

  it('status retries a refused connection and ends with UpstreamUnreachableError', async () => {
    await expect(client().status('down', 'j')).rejects.toBeInstanceOf(UpstreamUnreachableError);
    expect(retries()).toHaveLength(3);
  });

  it.each([
    [404, UpstreamNotFoundError],
    [401, UpstreamUnauthorizedError],
    [403, UpstreamUnauthorizedError],
    [400, UpstreamRefusedError],
    [422, UpstreamRefusedError],
  ])('never retries %i', async (status, type) => {
    upstream.reply({ status, body: '{}' });
    await expect(client().status('default', 'j')).rejects.toBeInstanceOf(type);
    expect(upstream.requests).toHaveLength(1);
  });

  it('never retries a 2xx body it cannot read', async () => {
    upstream.reply({ body: 'not json' });
    await expect(client().status('default', 'j')).rejects.toMatchObject({
      code: 'UPSTREAM_INVALID_RESPONSE',
    });
    expect(upstream.requests).toHaveLength(1);
  });
});

describe('operations that start work (run, runsync, retry, purge-queue)', () => {
  it('/run is NOT re-sent after a 5xx', async () => {
    upstream.reply({ status: 500 }, { body: fixture('run-in-queue.json') });
    await expect(client().run('default', { input: {} })).rejects.toBeInstanceOf(UpstreamServerError);
    expect(upstream.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('/run is NOT re-sent after a dropped connection', async () => {
    upstream.reply({ destroy: true }, { body: fixture('run-in-queue.json') });
    await expect(client().run('default', { input: {} })).rejects.toBeInstanceOf(UpstreamConnectionLostError);
    expect(upstream.requests).toHaveLength(1);
  });

  it('/run is NOT re-sent after a timeout', async () => {
    let calls = 0;
    const hanging: FetchLike = (_url, init) => {
      calls += 1;
      return new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    };
    await expect(
      client({ fetch: hanging, timeoutMs: 20 }).run('default', { input: {} }),
    ).rejects.toBeInstanceOf(UpstreamTimeoutError);
    expect(calls).toBe(1);
  });

  it('/run IS re-sent after a 429, honouring Retry-After', async () => {
    upstream.reply({ status: 429, headers: { 'retry-after': '2' } }, { body: fixture('run-in-queue.json') });
    const accepted = await client().run('default', { input: { prompt: 'p' } });
    expect(accepted.status).toBe('IN_QUEUE');
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1]?.body).toBe(upstream.requests[0]?.body);
    expect(sleeps).toEqual([2000]);
  });

  it('/run IS re-sent after a refused connection (real closed port), up to maxAttempts', async () => {
    await expect(client().run('down', { input: {} })).rejects.toBeInstanceOf(UpstreamUnreachableError);
    expect(retries().map((e) => e.type === 'retry' && e.code)).toEqual([
      'UPSTREAM_UNREACHABLE',
      'UPSTREAM_UNREACHABLE',
      'UPSTREAM_UNREACHABLE',
    ]);
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])(
    '/run IS re-sent after %s, then succeeds',
    async (code) => {
      let calls = 0;
      const flaky: FetchLike = async () => {
        calls += 1;
        if (calls === 1)
          throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
        return new Response(fixture('run-in-queue.json'), { status: 200 });
      };
      const accepted = await client({ fetch: flaky }).run('default', { input: {} });
      expect(accepted.id).toBe('eaebd6e7-6a92-4bb8-a911-f996ac5ea99d');
      expect(calls).toBe(2);
    },
  );

  it('finds the code inside an AggregateError cause (several addresses tried)', async () => {
    let calls = 0;
    const flaky: FetchLike = async () => {
      calls += 1;
      if (calls === 1) {
        const inner = [Object.assign(new Error('v6'), { code: 'ECONNREFUSED' })];
        throw new TypeError('fetch failed', { cause: new AggregateError(inner, 'all failed') });
      }
      return new Response(fixture('run-in-queue.json'));
    };
    await client({ fetch: flaky }).run('default', { input: {} });
    expect(calls).toBe(2);
  });

  it('/runsync, /retry and /purge-queue are not re-sent after a 5xx but are after a 429', async () => {
    const c = client();
    upstream.reply({ status: 500 });
    await expect(c.runSync('default', { input: {} }, { waitMs: 1000 })).rejects.toBeInstanceOf(
      UpstreamServerError,
    );
    upstream.reply({ status: 503 });
    await expect(c.retry('default', 'j')).rejects.toBeInstanceOf(UpstreamServerError);
    upstream.reply({ status: 502 });
    await expect(c.purgeQueue('default')).rejects.toBeInstanceOf(UpstreamServerError);
    expect(upstream.requests).toHaveLength(3);

    upstream.reply({ status: 429, headers: { 'retry-after': '1' } }, { body: fixture('purge-queue.json') });
    await c.purgeQueue('default');
    expect(upstream.requests).toHaveLength(5);
  });
});
