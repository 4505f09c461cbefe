// Backoff bounds, full jitter, and Retry-After in both of its forms.
import { describe, expect, it } from 'vitest';
import {
  backoffCeilingMs,
  defaultRetryAfterMs,
  fullJitterBackoffMs,
  parseRetryAfterMs,
} from '../../../../functions/adapters/upstream/backoff.ts';

const settings = { maxAttempts: 5, baseBackoffMs: 100, maxBackoffMs: 1000 };

describe('backoff', () => {
  it('doubles per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeilingMs(settings, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('draws uniformly below the ceiling (full jitter)', () => {
    expect(fullJitterBackoffMs(settings, 3, () => 0)).toBe(0);
    expect(fullJitterBackoffMs(settings, 3, () => 0.5)).toBe(200);
    expect(fullJitterBackoffMs(settings, 3, () => 0.999)).toBeLessThan(400);
  });

  it('names a 429 wait between half and all of the ceiling when the upstream gives none', () => {
    expect(defaultRetryAfterMs(settings, 2, () => 0)).toBe(100);
    expect(defaultRetryAfterMs(settings, 2, () => 0.5)).toBe(150);
    expect(defaultRetryAfterMs(settings, 9, () => 0.999)).toBeLessThanOrEqual(1000);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('7', now)).toBe(7000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
    expect(parseRetryAfterMs('1.5', now)).toBe(1500);
  });

  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('gives undefined for absent or unreadable values', () => {
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs('', now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-5', now)).toBeUndefined();
  });
});
