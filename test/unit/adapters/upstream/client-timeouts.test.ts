// Timeouts under fake timers: every call is bounded, and the sync calls get their wait on top.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createUpstreamClient, type FetchLike } from '../../../../functions/adapters/upstream/index.ts';
import { UpstreamTimeoutError } from '../../../../functions/core/errors.ts';
import { fixture, flush } from './fake-upstream.ts';

/** A fetch that never answers until its signal aborts, as undici does; it counts its calls. */
function hangingFetch() {
  const calls: string[] = [];
  const fetch: FetchLike = (url, init) => {
    calls.push(url);
    return new Promise((_resolve, reject) => {
      init.signal?.addEventListener('abort', () =>
        reject(new DOMException('This operation was aborted', 'AbortError')),
      );
    });
  };
  return { fetch, calls };
}

function client(fetch: FetchLike) {
  return createUpstreamClient({
    endpoints: { default: 'https://api.runpod.ai/v2/ep' },
    apiKey: async () => 'k',
    timeoutMs: 1000,
    fetch,
    retry: { maxAttempts: 1 },
  });
}

/** Settles the promise into a state the test can read without awaiting it. */
function track(promise: Promise<unknown>) {
  const state: { settled: boolean; error?: unknown } = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('timeouts', () => {
  it('aborts a status call at timeoutMs', async () => {
    const { fetch, calls } = hangingFetch();
    const state = track(client(fetch).status('default', 'j'));
    await flush();
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.error).toBeInstanceOf(UpstreamTimeoutError);
    expect(state.error).toMatchObject({ details: { operation: 'status', timeoutMs: 1000 } });
  });

  it.each([
    ['runSync', 'runsync'],
    ['statusSync', 'status-sync'],
  ] as const)('%s gets timeoutMs plus its wait', async (method, operation) => {
    const { fetch } = hangingFetch();
    const c = client(fetch);
    const call =
      method === 'runSync'
        ? c.runSync('default', { input: {} }, { waitMs: 5000 })
        : c.statusSync('default', 'j', { waitMs: 5000 });
    const state = track(call);
    await flush();
    await vi.advanceTimersByTimeAsync(5999);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', details: { operation, timeoutMs: 6000 } });
  });

  it('runSync without a wait outlasts the upstream default of 90 s', async () => {
    const { fetch } = hangingFetch();
    const state = track(client(fetch).runSync('default', { input: {} }));
    await flush();
    await vi.advanceTimersByTimeAsync(90_999);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.error).toMatchObject({ details: { timeoutMs: 91_000 } });
  });

  it('each retry attempt gets a fresh timeout', async () => {
    const { fetch, calls } = hangingFetch();
    const c = createUpstreamClient({
      endpoints: { default: 'https://api.runpod.ai/v2/ep' },
      apiKey: async () => 'k',
      timeoutMs: 1000,
      fetch,
      retry: { maxAttempts: 2 },
      sleep: async () => {},
    });
    const state = track(c.health('default'));
    await flush();
    await vi.advanceTimersByTimeAsync(1000);
    await flush();
    expect(calls).toHaveLength(2);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(state.error).toBeInstanceOf(UpstreamTimeoutError);
  });

  it('leaves no timer behind once a call is answered', async () => {
    const answering: FetchLike = async () => new Response(fixture('health.json'));
    await client(answering).health('default');
    expect(vi.getTimerCount()).toBe(0);
  });
});
