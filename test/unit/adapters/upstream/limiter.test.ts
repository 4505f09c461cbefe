// The limiter: concurrency cap, sliding 10 s rate window, FIFO order, one timer instead of polling.
import { describe, expect, it } from 'vitest';
import { LIMITER_WINDOW_MS, Limiter, type Permit } from '../../../../functions/adapters/upstream/limiter.ts';
import { flush, manualClock } from './fake-upstream.ts';

/** Starts `count` acquisitions and records, per caller, when (clock time) it was granted. */
function acquireMany(limiter: Limiter, count: number, now: () => number) {
  const grantedAt: (number | undefined)[] = new Array(count).fill(undefined);
  const permits: Permit[] = [];
  const order: number[] = [];
  for (let i = 0; i < count; i++) {
    void limiter.acquire().then((permit) => {
      grantedAt[i] = now();
      permits[i] = permit;
      order.push(i);
    });
  }
  return { grantedAt, permits, order };
}

describe('Limiter', () => {
  it('caps requests in flight and hands freed slots out in arrival order', async () => {
    const clock = manualClock();
    const limiter = new Limiter({ ratePer10s: 100, concurrency: 2 }, clock);
    const { permits, order } = acquireMany(limiter, 5, clock.now);
    await flush();
    expect(order).toEqual([0, 1]);
    expect(limiter.inFlight).toBe(2);
    expect(limiter.waiting).toBe(3);

    permits[1]?.release();
    await flush();
    expect(order).toEqual([0, 1, 2]);
    permits[0]?.release();
    permits[2]?.release();
    await flush();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.inFlight).toBe(2);
    // Concurrency alone never needs a timer.
    expect(clock.sleeps).toEqual([]);
  });

  it('ignores a second release of the same permit', async () => {
    const clock = manualClock();
    const limiter = new Limiter({ ratePer10s: 100, concurrency: 1 }, clock);
    const { permits, order } = acquireMany(limiter, 3, clock.now);
    await flush();
    permits[0]?.release();
    permits[0]?.release();
    await flush();
    expect(order).toEqual([0, 1]);
    expect(limiter.inFlight).toBe(1);
  });

  it('never starts more than ratePer10s in any 10 s window, sleeping once until the oldest token frees', async () => {
    const clock = manualClock();
    const limiter = new Limiter({ ratePer10s: 3, concurrency: 100 }, clock);
    const first = acquireMany(limiter, 4, clock.now);
    await flush();
    expect(first.order).toEqual([0, 1, 2]);
    expect(clock.sleeps).toEqual([LIMITER_WINDOW_MS]);

    // More waiters while the timer runs: no second timer, no polling.
    await clock.advance(4000);
    const second = acquireMany(limiter, 2, clock.now);
    await flush();
    expect(clock.sleeps).toEqual([LIMITER_WINDOW_MS]);
    expect(first.order).toEqual([0, 1, 2]);

    await clock.advance(5999);
    expect(first.order).toEqual([0, 1, 2]);
    await clock.advance(1);
    // The three tokens spent at t=0 all come back at t=10 000: the next three waiters go, in order.
    expect(first.grantedAt[3]).toBe(10_000);
    expect(second.grantedAt).toEqual([10_000, 10_000]);
    expect(limiter.waiting).toBe(0);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('keeps every window of 10 s under the rate for a long queue', async () => {
    const clock = manualClock();
    const rate = 4;
    const limiter = new Limiter({ ratePer10s: rate, concurrency: 100 }, clock);
    const { grantedAt, order } = acquireMany(limiter, 10, clock.now);
    await flush();
    for (let step = 0; step < 40 && order.length < 10; step++) await clock.advance(1000);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const times = grantedAt.map((t) => t ?? Number.NaN);
    for (let i = 0; i + rate < times.length; i++) {
      expect((times[i + rate] ?? 0) - (times[i] ?? 0)).toBeGreaterThanOrEqual(LIMITER_WINDOW_MS);
    }
  });

  it('reports how long a caller waited', async () => {
    const clock = manualClock(1_000_000);
    const limiter = new Limiter({ ratePer10s: 1, concurrency: 1 }, clock);
    const first = await limiter.acquire();
    expect(first.waitedMs).toBe(0);
    const second = limiter.acquire();
    first.release();
    await clock.advance(LIMITER_WINDOW_MS);
    expect((await second).waitedMs).toBe(LIMITER_WINDOW_MS);
  });

  it('needs both a token and a slot', async () => {
    const clock = manualClock();
    const limiter = new Limiter({ ratePer10s: 2, concurrency: 1 }, clock);
    const { permits, order } = acquireMany(limiter, 3, clock.now);
    await flush();
    expect(order).toEqual([0]);
    permits[0]?.release();
    await flush();
    expect(order).toEqual([0, 1]);
    permits[1]?.release();
    await flush();
    // Slot free, but both tokens were spent at t=0.
    expect(order).toEqual([0, 1]);
    await clock.advance(LIMITER_WINDOW_MS);
    expect(order).toEqual([0, 1, 2]);
  });

  it('keeps serving the queue when the injected sleep fails', async () => {
    let now = 0;
    const limiter = new Limiter(
      { ratePer10s: 1, concurrency: 5 },
      {
        now: () => now,
        sleep: () => {
          now += LIMITER_WINDOW_MS;
          return Promise.reject(new Error('timer broke'));
        },
      },
    );
    await limiter.acquire();
    const second = await limiter.acquire();
    expect(second.waitedMs).toBe(LIMITER_WINDOW_MS);
  });

  it('refuses settings that are not positive integers', () => {
    expect(() => new Limiter({ ratePer10s: 0, concurrency: 1 })).toThrow(RangeError);
    expect(() => new Limiter({ ratePer10s: 5, concurrency: 1.5 })).toThrow(/concurrency/);
  });
});
