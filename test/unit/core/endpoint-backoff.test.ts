// An endpoint's 429 back-off: an echo moves nothing, a still-full upstream doubles it, a quiet spell resets it.
import { describe, expect, it } from 'vitest';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, nextPause } from '../../../functions/core/endpoint-backoff.ts';

describe('nextPause', () => {
  it('starts an episode at the base, or at the Retry-After when that is longer', () => {
    expect(nextPause(undefined, 1_000, 1_050, 0)).toEqual({ at: 1_050, ms: BACKOFF_BASE_MS });
    expect(nextPause(undefined, 1_000, 1_050, 5_000)).toEqual({ at: 1_050, ms: 5_000 });
  });

  it('leaves the pause alone for a /run started on a start time handed out before it (an echo)', () => {
    const pause = { at: 10_000, ms: 4_000 };
    // Twenty workers held start times before the first 429: their 429s must not double it twenty times.
    for (const startedAt of [9_990, 10_500, 13_999])
      expect(nextPause(pause, startedAt, 10_600, 0)).toBeUndefined();
  });

  it('stretches the pause in force when an echo carries a longer Retry-After', () => {
    expect(nextPause({ at: 10_000, ms: 4_000 }, 10_500, 10_600, 8_000)).toEqual({ at: 10_000, ms: 8_600 });
  });

  it('doubles for a 429 soon after the pause ended, up to the cap', () => {
    let pause = nextPause(undefined, 0, 0, 0);
    const lengths: number[] = [];
    for (let i = 0; i < 10 && pause; i++) {
      lengths.push(pause.ms);
      const resumed = pause.at + pause.ms;
      pause = nextPause(pause, resumed, resumed + 100, 0);
    }
    expect(lengths).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(BACKOFF_CAP_MS).toBe(60_000);
  });

  it('starts again at the base after a quiet spell, however long the last episode grew', () => {
    const long = { at: 0, ms: BACKOFF_CAP_MS };
    const afterQuiet = BACKOFF_CAP_MS + 2 * BACKOFF_CAP_MS;
    expect(nextPause(long, afterQuiet, afterQuiet + 10, 0)).toEqual({
      at: afterQuiet + 10,
      ms: BACKOFF_BASE_MS,
    });
  });
});
