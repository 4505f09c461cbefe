// The look schedule is safe: for any job length, answer delay and sweeper lag under the margin, no result expires.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../functions/config.ts';
import { UpstreamNotFoundError } from '../../../functions/core/errors.ts';
import { firstLookAt, nextLookAt } from '../../../functions/core/schedule.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { TEST_ENV, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const MINUTE = 60_000;

/** Retention, margin and the optional configured first look and interval, as an operator may set them. */
const settings = fc
  .record({
    retentionMs: fc.integer({ min: 10_000, max: 60 * MINUTE }),
    marginFraction: fc.double({ min: 0.02, max: 0.9, noNaN: true }),
    firstLookMs: fc.option(fc.integer({ min: 0, max: 90 * MINUTE }), { nil: undefined }),
    lookIntervalMs: fc.option(fc.integer({ min: 10_000, max: 90 * MINUTE }), { nil: undefined }),
  })
  .filter((s) => s.retentionMs - Math.floor(s.retentionMs * s.marginFraction) >= 1000);

type Settings = typeof settings extends fc.Arbitrary<infer T> ? T : never;

const configOf = (s: Settings) => parseConfig({ ...TEST_ENV, ...envOf(s) });

function envOf(s: Settings): Record<string, string> {
  return {
    RETENTION_MS: String(s.retentionMs),
    LOOK_MARGIN_MS: String(Math.floor(s.retentionMs * s.marginFraction)),
    ...(s.firstLookMs !== undefined && { FIRST_LOOK_MS: String(s.firstLookMs) }),
    ...(s.lookIntervalMs !== undefined && { LOOK_INTERVAL_MS: String(s.lookIntervalMs) }),
  };
}

describe('the look schedule', () => {
  it('never lets a result expire before a look, for any job length and any lag under the margin', () => {
    fc.assert(
      fc.property(
        settings,
        fc.integer({ min: 0, max: 10 * 3600_000 }),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.string({ minLength: 1, maxLength: 26 }),
        (s, jobLengthMs, lagFractions, jobId) => {
          const config = configOf(s);
          const R = config.RETENTION_MS;
          const runAttempted = 1_000_000;
          const finishedAt = runAttempted + jobLengthMs;
          // Each look happens some time after it is due, always less than the margin late.
          let due = firstLookAt(runAttempted, config);
          for (let i = 0; ; i++) {
            const lookAt = due + (lagFractions[i % lagFractions.length] ?? 0) * config.lookMarginMs;
            if (lookAt >= finishedAt) {
              expect(lookAt).toBeLessThan(finishedAt + R);
              return;
            }
            due = nextLookAt(lookAt, config, jobId);
            if (!(due > lookAt)) expect.fail(`look ${i} scheduled no later than itself`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('caps a configured first look or interval at the safe bound, retention less the margin', () => {
    fc.assert(
      fc.property(settings, (s) => {
        const config = configOf(s);
        const safe = config.RETENTION_MS - config.lookMarginMs;
        expect(config.firstLookMs).toBeLessThanOrEqual(safe);
        expect(config.lookIntervalMs).toBeLessThanOrEqual(safe);
        if (s.lookIntervalMs === undefined) expect(config.lookIntervalMs).toBe(safe);
      }),
    );
  });

  it('through the real sweeper and capture: a job is archived, never expired, whatever its length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 * 30 * MINUTE }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (jobLengthMs, lagFractions, answerShare) => {
          const deps = testDeps();
          const { RETENTION_MS: R, lookMarginMs: margin } = deps.config;
          // The sweeper's lag and the /status round trip together stay under the margin.
          const answerDelayMs = Math.floor(answerShare * margin * 0.5);
          const lagBudget = margin - answerDelayMs - 1;
          const runAttempted = deps.clock.now();
          const finishedAt = runAttempted + jobLengthMs;
          const job = pendingJob({
            runAttemptedAt: new Date(runAttempted).toISOString(),
            dueAt: firstLookAt(runAttempted, deps.config),
          });
          const upstreamId = job.upstreamId ?? '';
          await deps.jobs.create(job);
          // The upstream as documented: running until it finishes, the result kept R after, then 404.
          deps.upstream.statusImpl = async () => {
            deps.clock.advance(answerDelayMs);
            const at = deps.clock.now();
            const status =
              at < finishedAt
                ? { id: upstreamId, status: 'IN_PROGRESS' }
                : { id: upstreamId, status: 'COMPLETED', output: { done: true } };
            if (at >= finishedAt + R) throw new UpstreamNotFoundError('status', upstreamId);
            return { status, raw: Buffer.from(JSON.stringify(status)) };
          };
          for (let look = 0; look < 40; look++) {
            const current = await deps.jobs.get(job.jobId);
            if (current?.state !== 'PENDING') break;
            const lag = Math.floor((lagFractions[look % lagFractions.length] ?? 0) * lagBudget);
            deps.clock.ms = Math.max(deps.clock.now(), (current.dueAt ?? 0) + lag);
            await sweep(deps, { remainingMs: () => 600_000 });
          }
          const settled = await deps.jobs.get(job.jobId);
          expect(settled?.state).toBe('ARCHIVED');
          // Its cost: one look per safe interval it ran through, plus the look that archived it.
          const looks = deps.upstream.count('status');
          expect(looks).toBeLessThanOrEqual(Math.floor(jobLengthMs / (R - margin - 5000)) + 1);
        },
      ),
      { numRuns: 60 },
    );
  });
});
