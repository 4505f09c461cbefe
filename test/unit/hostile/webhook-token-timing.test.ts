// Token checks compare in constant time: one timingSafeEqual over equal-length buffers, whatever the token.
import { timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { signWebhookToken, verifyWebhookToken } from '../../../functions/core/webhook-token.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const SECRET = 'timing-test-secret-0123456789abcdef0123456789';
const JOB = '01JDXKQ5N8Y3V7M2R6T4W9Z0AB';
const compare = vi.mocked(timingSafeEqual);

describe('verifyWebhookToken timing', () => {
  beforeEach(() => {
    compare.mockClear();
  });

  it('runs exactly one full-length comparison for any token: right, wrong, short, long or empty', () => {
    const right = signWebhookToken(SECRET, JOB);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.constant(right),
          fc.constant(''),
          fc.nat({ max: 42 }).map((n) => right.slice(0, n)),
          fc.string({ minLength: 1, maxLength: 5 }).map((extra) => right + extra),
        ),
        (token) => {
          compare.mockClear();
          const ok = verifyWebhookToken(SECRET, JOB, token);
          expect(ok).toBe(token === right);
          expect(compare).toHaveBeenCalledTimes(1);
          const [given, expected] = compare.mock.calls[0] ?? [];
          expect((given as Buffer).length).toBe(right.length);
          expect((expected as Buffer).length).toBe(right.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
