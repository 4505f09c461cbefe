// Error mapping against a real local server: every HTTP status class, bad bodies, refused connections.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamConnectionLostError } from '../../../../functions/adapters/upstream/error-mapping.ts';
import { createUpstreamClient, type UpstreamEvent } from '../../../../functions/adapters/upstream/index.ts';
import {
  UnknownEndpointError,
  UpstreamInvalidResponseError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnauthorizedError,
  UpstreamUnreachableError,
} from '../../../../functions/core/errors.ts';
import type { UpstreamClient } from '../../../../functions/core/upstream-port.ts';
import { closedPort, type FakeUpstream, startFakeUpstream } from './fake-upstream.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
let upstream: FakeUpstream;
let client: UpstreamClient;
/** The same client with a short timeout, for the tests about timing out (the others must not time out on a busy machine). */
let impatient: UpstreamClient;
const events: UpstreamEvent[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  const options = (timeoutMs: number) => ({
    endpoints: { default: `${upstream.origin}/v2/ep`, down: `http://127.0.0.1:${closed}/v2/ep` },
    apiKey: async () => 'sk-secret-key',
    // One attempt: this file is about mapping, retries have their own file.
    retry: { maxAttempts: 1, baseBackoffMs: 1000, maxBackoffMs: 8000 },
    timeoutMs,
    now: () => NOW,
    random: () => 0.5,
    onEvent: (event: UpstreamEvent) => events.push(event),
  });
  const closed = await closedPort();
  client = createUpstreamClient(options(30_000));
  impatient = createUpstreamClient(options(150));
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.reset();
  events.length = 0;
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('HTTP answers', () => {
  it('404 → UpstreamNotFoundError naming the upstream id', async () => {
    upstream.reply({ status: 404, body: '{"error":"job not found"}' });
    const error = await failure(client.status('default', 'gone-u1'));
    expect(error).toBeInstanceOf(UpstreamNotFoundError);
    expect(error).toMatchObject({
      code: 'UPSTREAM_NOT_FOUND',
      details: { operation: 'status', upstreamId: 'gone-u1' },
    });
  });

  it.each([401, 403])('%i → UpstreamUnauthorizedError, without the key anywhere in it', async (status) => {
    upstream.reply({ status, body: 'Unauthorized' });
    const error = await failure(client.health('default'));
    expect(error).toBeInstanceOf(UpstreamUnauthorizedError);
    expect(error).toMatchObject({ details: { status } });
    expect(JSON.stringify(error) + String(error)).not.toContain('sk-secret-key');
  });

  it('other 4xx → UpstreamRefusedError with an excerpt of the body', async () => {
    upstream.reply({ status: 400, body: `{"error":"input is required","pad":"${'x'.repeat(5000)}"}` });
    const error = await failure(client.run('default', { input: {} }));
    expect(error).toBeInstanceOf(UpstreamRefusedError);
    expect(error).toMatchObject({ certainlyNotAccepted: true, details: { status: 400 } });
    const body = (error as UpstreamRefusedError).details?.body;
    expect(body).toEqual(expect.stringContaining('input is required'));
    expect(String(body).length).toBeLessThanOrEqual(2000);
  });

  it('5xx → UpstreamServerError, not certainly refused', async () => {
    upstream.reply({ status: 502, body: '<html>Bad gateway</html>' });
    const error = await failure(client.status('default', 'j'));
    expect(error).toBeInstanceOf(UpstreamServerError);
    expect(error).toMatchObject({ certainlyNotAccepted: false, details: { status: 502 } });
  });

  it('429 with Retry-After seconds → UpstreamRateLimitedError with that wait', async () => {
    upstream.reply({ status: 429, headers: { 'retry-after': '4' } });
    const error = await failure(client.run('default', { input: {} }));
    expect(error).toBeInstanceOf(UpstreamRateLimitedError);
    expect(error).toMatchObject({ retryAfterMs: 4000, certainlyNotAccepted: true });
    expect(events).toContainEqual({
      type: 'rate-limited',
      endpoint: 'default',
      operation: 'run',
      attempt: 1,
      retryAfterMs: 4000,
    });
  });

  it('429 with a Retry-After date → the time until then', async () => {
    upstream.reply({ status: 429, headers: { 'retry-after': new Date(NOW + 7000).toUTCString() } });
    expect(await failure(client.status('default', 'j'))).toMatchObject({ retryAfterMs: 7000 });
  });

  it('429 without Retry-After → a backoff default (half to all of the first backoff ceiling)', async () => {
    upstream.reply({ status: 429 });
    // random 0.5: 1000/2 + 0.5 * 1000/2
    expect(await failure(client.status('default', 'j'))).toMatchObject({ retryAfterMs: 750 });
  });

  it('reports every answer for metrics', async () => {
    upstream.reply({ status: 503 });
    await failure(client.status('default', 'j'));
    expect(events).toEqual([
      { type: 'response', endpoint: 'default', operation: 'status', attempt: 1, status: 503, durationMs: 0 },
    ]);
  });
});

describe('bodies the schemas cannot read', () => {
  it('invalid JSON → UpstreamInvalidResponseError', async () => {
    upstream.reply({ body: '<html>maintenance</html>' });
    const error = await failure(client.status('default', 'j'));
    expect(error).toBeInstanceOf(UpstreamInvalidResponseError);
    expect(String((error as Error).message)).toContain('not JSON');
  });

  it('JSON of the wrong shape → UpstreamInvalidResponseError naming the field', async () => {
    upstream.reply({ body: '{"status":"COMPLETED"}' });
    const error = await failure(client.status('default', 'j'));
    expect(error).toBeInstanceOf(UpstreamInvalidResponseError);
    expect(String((error as Error).message)).toContain('id');
  });

  it('an empty 200 → UpstreamInvalidResponseError', async () => {
    upstream.reply({ body: '' });
    expect(await failure(client.health('default'))).toBeInstanceOf(UpstreamInvalidResponseError);
  });

  it('a body that is not UTF-8 → UpstreamInvalidResponseError', async () => {
    upstream.reply({ body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) });
    expect(await failure(client.health('default'))).toBeInstanceOf(UpstreamInvalidResponseError);
  });
});

describe('no answer', () => {
  it('connection refused → UpstreamUnreachableError, certainly not accepted', async () => {
    const error = await failure(client.run('down', { input: {} }));
    expect(error).toBeInstanceOf(UpstreamUnreachableError);
    expect(error).toMatchObject({ certainlyNotAccepted: true, details: { cause: 'ECONNREFUSED' } });
    expect(events).toContainEqual(expect.objectContaining({ type: 'failure', code: 'UPSTREAM_UNREACHABLE' }));
  });

  it('a connection dropped after sending → UpstreamConnectionLostError, not certainly refused', async () => {
    upstream.reply({ destroy: true });
    const error = await failure(client.run('default', { input: {} }));
    expect(error).toBeInstanceOf(UpstreamConnectionLostError);
    expect(error).toBeInstanceOf(UpstreamInvalidResponseError);
    expect(error).toMatchObject({ certainlyNotAccepted: false });
  });

  it('no answer within the timeout → UpstreamTimeoutError (real socket, 150 ms)', async () => {
    upstream.reply({ hang: true });
    const error = await failure(impatient.status('default', 'j'));
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect(error).toMatchObject({ certainlyNotAccepted: false, details: { timeoutMs: 150 } });
  });

  it('a body that stalls after the headers → UpstreamTimeoutError', async () => {
    upstream.reply({ stallAfterHeaders: true });
    expect(await failure(impatient.status('default', 'j'))).toBeInstanceOf(UpstreamTimeoutError);
  });
});

describe('configuration errors', () => {
  it('an unknown endpoint name → UnknownEndpointError listing the known ones, nothing sent', async () => {
    const error = await failure(client.status('nope', 'j'));
    expect(error).toBeInstanceOf(UnknownEndpointError);
    expect(error).toMatchObject({ details: { endpoint: 'nope', known: ['default', 'down'] } });
    expect(upstream.requests).toHaveLength(0);
  });

  it('a failing key lookup surfaces as is, nothing sent', async () => {
    const broken = createUpstreamClient({
      endpoints: { default: `${upstream.origin}/v2/ep` },
      apiKey: async () => {
        throw new Error('AccessDeniedException');
      },
    });
    await expect(broken.health('default')).rejects.toThrow('AccessDeniedException');
    expect(upstream.requests).toHaveLength(0);
  });

  it('a malformed base URL is refused when the client is built', () => {
    expect(() =>
      createUpstreamClient({ endpoints: { bad: 'not a url' }, apiKey: async () => 'k' }),
    ).toThrow();
  });
});
