// The client's limiters: concurrency and rate per endpoint and operation class, waits reported.
import { describe, expect, it } from 'vitest';
import {
  createUpstreamClient,
  type FetchLike,
  type UpstreamEvent,
} from '../../../../functions/adapters/upstream/index.ts';
import { LIMITER_WINDOW_MS } from '../../../../functions/adapters/upstream/limiter.ts';
import { fixture, flush, manualClock } from './fake-upstream.ts';

/** A fetch whose answers the test releases one by one; it tracks how many requests are open at once. */
function heldFetch() {
  const open: (() => void)[] = [];
  const seen: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const fetch: FetchLike = (url) => {
    seen.push(url);
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    return new Promise((resolve) => {
      open.push(() => {
        inFlight -= 1;
        const name = url.includes('/health') ? 'health.json' : 'status-completed-text.json';
        resolve(new Response(fixture(name)));
      });
    });
  };
  return {
    fetch,
    seen,
    peak: () => peak,
    answerOne: () => open.shift()?.(),
  };
}

describe('client limiter', () => {
  it('caps concurrent status calls and starts the next when one ends', async () => {
    const held = heldFetch();
    const client = createUpstreamClient({
      endpoints: { default: 'https://api.runpod.ai/v2/ep' },
      apiKey: async () => 'k',
      fetch: held.fetch,
      limits: { status: { ratePer10s: 100, concurrency: 2 } },
    });
    const calls = Array.from({ length: 5 }, (_, i) => client.status('default', `j${i}`));
    await flush();
    expect(held.seen).toHaveLength(2);
    held.answerOne();
    await flush();
    expect(held.seen).toHaveLength(3);
    for (let i = 0; i < 4; i++) {
      held.answerOne();
      await flush();
    }
    await Promise.all(calls);
    expect(held.peak()).toBe(2);
    // FIFO: requests went out in call order.
    expect(held.seen.map((u) => u.split('/').pop())).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
  });

  it('caps the rate per 10 s and reports the wait', async () => {
    const clock = manualClock();
    const events: UpstreamEvent[] = [];
    const client = createUpstreamClient({
      endpoints: { default: 'https://api.runpod.ai/v2/ep' },
      apiKey: async () => 'k',
      fetch: async () => new Response(fixture('status-completed-text.json')),
      limits: { status: { ratePer10s: 2, concurrency: 10 } },
      now: clock.now,
      sleep: clock.sleep,
      onEvent: (event) => events.push(event),
    });
    const done: number[] = [];
    for (let i = 0; i < 3; i++) void client.status('default', `j${i}`).then(() => done.push(i));
    await flush();
    expect(done).toEqual([0, 1]);
    await clock.advance(LIMITER_WINDOW_MS - 1);
    expect(done).toEqual([0, 1]);
    await clock.advance(1);
    expect(done).toEqual([0, 1, 2]);
    expect(events).toContainEqual({
      type: 'limiter-wait',
      endpoint: 'default',
      limiterClass: 'status',
      waitedMs: LIMITER_WINDOW_MS,
    });
  });

  it('keeps separate buckets per endpoint and per class; status-sync and stream share the status bucket', async () => {
    const held = heldFetch();
    const client = createUpstreamClient({
      endpoints: { a: 'https://api.runpod.ai/v2/a', b: 'https://api.runpod.ai/v2/b' },
      apiKey: async () => 'k',
      fetch: held.fetch,
      limits: { status: { ratePer10s: 100, concurrency: 1 }, other: { ratePer10s: 100, concurrency: 1 } },
    });
    void client.status('a', 'j1');
    void client.statusSync('a', 'j2', { waitMs: 1000 });
    void client.stream('a', 'j3');
    void client.status('b', 'j4');
    void client.health('a');
    await flush();
    expect(held.seen).toEqual([
      'https://api.runpod.ai/v2/a/status/j1',
      'https://api.runpod.ai/v2/b/status/j4',
      'https://api.runpod.ai/v2/a/health',
    ]);
  });

  it('frees the slot when a call fails and does not hold it while backing off', async () => {
    const clock = manualClock();
    const seen: string[] = [];
    const client = createUpstreamClient({
      endpoints: { default: 'https://api.runpod.ai/v2/ep' },
      apiKey: async () => 'k',
      fetch: async (url) => {
        seen.push(url.split('/').pop() ?? '');
        return seen.length === 1
          ? new Response('', { status: 500 })
          : new Response(fixture('status-completed-text.json'));
      },
      limits: { status: { ratePer10s: 100, concurrency: 1 } },
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
    });
    const first = client.status('default', 'a');
    const second = client.status('default', 'b');
    // a failed and sleeps its backoff; b goes meanwhile, in a's freed slot.
    await second;
    expect(seen).toEqual(['a', 'b']);
    expect(clock.pendingSleeps()).toBe(1);
    await clock.advance(100);
    await first;
    expect(seen).toEqual(['a', 'b', 'a']);
  });
});
