import { beforeEach, describe, expect, it } from 'vitest';
import { UpstreamRateLimitedError, UpstreamServerError } from '../../../functions/core/errors.ts';
import { scopedIdempotencyKey } from '../../../functions/core/idempotency.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { seedDueJob } from '../../support/jobs.ts';

const plenty = () => 600_000;

describe('sweep', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  const seed = (overrides = {}) => seedDueJob(deps, overrides);

  it('archives finished jobs, reschedules running ones and leaves jobs not yet due alone', async () => {
    const done = await seed();
    const running = await seed();
    const later = await seed({ dueAt: deps.clock.now() + 60_000 });
    deps.upstream.statuses.set(done.upstreamId ?? '', {
      id: done.upstreamId ?? '',
      status: 'COMPLETED',
      output: 1,
    });
    deps.upstream.statuses.set(running.upstreamId ?? '', {
      id: running.upstreamId ?? '',
      status: 'IN_PROGRESS',
    });

    const summary = await sweep(deps, { remainingMs: plenty });

    expect(summary).toMatchObject({ due: 2, polled: 2, archived: 1, rescheduled: 1, expired: 0 });
    expect((await deps.jobs.get(done.jobId))?.state).toBe('ARCHIVED');
    expect((await deps.jobs.get(done.jobId))?.captureSource).toBe('sweeper');
    // Seen running now: its result is kept at least a retention window from now; looked at again before.
    const next = (await deps.jobs.get(running.jobId))?.dueAt ?? 0;
    expect(next).toBeLessThanOrEqual(deps.clock.now() + deps.config.RETENTION_MS - deps.config.lookMarginMs);
    expect(next).toBeGreaterThan(deps.clock.now() + deps.config.lookIntervalMs - 5001);
    expect(deps.upstream.calls.some((c) => c.args[1] === later.upstreamId)).toBe(false);
  });

  it('waits as long as is safe between looks at a running job by default: retention less the margin', () => {
    expect(deps.config.lookIntervalMs).toBe(deps.config.RETENTION_MS - deps.config.lookMarginMs);
    expect(deps.config.lookMarginMs).toBe(deps.config.RETENTION_MS / 6);
  });

  it('works oldest-first across shards', async () => {
    const jobs = [];
    for (let i = 0; i < 12; i++) jobs.push(await seed({ dueAt: deps.clock.now() - 10_000 + i * 100 }));
    for (const j of jobs)
      deps.upstream.statuses.set(j.upstreamId ?? '', { id: j.upstreamId ?? '', status: 'IN_QUEUE' });
    await sweep(deps, { remainingMs: plenty, concurrency: 1 });
    const order = deps.upstream.calls.filter((c) => c.op === 'status').map((c) => c.args[1]);
    expect(order).toEqual(jobs.map((j) => j.upstreamId));
  });

  it('reads about one due-index item per job it looks at, not a full page per shard', async () => {
    deps = testDeps({ SWEEP_BATCH: '20' });
    let read = 0;
    const query = deps.jobs.queryDue.bind(deps.jobs);
    deps.jobs.queryDue = async (...args) => {
      const items = await query(...args);
      read += items.length;
      return items;
    };
    for (let i = 0; i < 60; i++) {
      const job = await seed();
      deps.upstream.statuses.set(job.upstreamId ?? '', { id: job.upstreamId ?? '', status: 'IN_PROGRESS' });
    }
    const summary = await sweep(deps, { remainingMs: plenty });
    expect(summary.polled).toBe(60);
    expect(read / 60).toBeLessThanOrEqual(1.1);
  });

  it('marks a 404 past the grace period EXPIRED, counts it and emits Job Expired', async () => {
    const gone = await seed({ submittedAt: new Date(deps.clock.now() - 3_600_000).toISOString() });
    const summary = await sweep(deps, { remainingMs: plenty });
    expect(summary.expired).toBe(1);
    const stored = await deps.jobs.get(gone.jobId);
    expect(stored?.state).toBe('EXPIRED');
    expect(stored?.dueAt).toBeUndefined();
    expect(deps.metrics.get('JobsExpired')).toBe(1);
    expect(deps.events.published.map((e) => e.type)).toEqual(['Job Expired']);
  });

  it('gives a just-submitted job that answers 404 another look instead of expiring it', async () => {
    const young = await seed({ submittedAt: new Date(deps.clock.now() - 1000).toISOString() });
    await sweep(deps, { remainingMs: plenty });
    expect((await deps.jobs.get(young.jobId))?.state).toBe('PENDING');
  });

  it('stops for the rest of the pass on 429 and leaves the jobs due', async () => {
    for (let i = 0; i < 5; i++) await seed();
    deps.upstream.statusImpl = async () => {
      throw new UpstreamRateLimitedError('status', 5000);
    };
    const summary = await sweep(deps, { remainingMs: plenty, concurrency: 1 });
    expect(summary.rateLimited).toBe(1);
    expect(summary.stoppedEarly).toBe(true);
    expect(deps.upstream.count('status')).toBe(1);
    expect(
      (await deps.jobs.queryDue(0, deps.clock.now(), 100)).length +
        (await deps.jobs.queryDue(1, deps.clock.now(), 100)).length +
        (await deps.jobs.queryDue(2, deps.clock.now(), 100)).length +
        (await deps.jobs.queryDue(3, deps.clock.now(), 100)).length,
    ).toBe(5);
  });

  it('backs a failing look off without losing the job', async () => {
    const job = await seed();
    deps.upstream.statusImpl = async () => {
      throw new UpstreamServerError('status', 503);
    };
    const summary = await sweep(deps, { remainingMs: plenty });
    expect(summary.errors).toBe(1);
    const stored = await deps.jobs.get(job.jobId);
    expect(stored?.state).toBe('PENDING');
    expect(stored?.dueAt).toBeGreaterThan(deps.clock.now());
  });

  it('stops before its own timeout and leaves the rest to the next run', async () => {
    for (let i = 0; i < 3; i++) await seed();
    const summary = await sweep(deps, { remainingMs: () => deps.config.SWEEP_SAFETY_MS - 1 });
    expect(summary).toMatchObject({ polled: 0, stoppedEarly: true });
  });

  it('rejects a SUBMITTING job a crash left before /run, and frees its Idempotency-Key', async () => {
    const job = await seed({
      state: 'SUBMITTING',
      upstreamId: undefined,
      runAttemptedAt: undefined,
      idempotencyKey: 'key-crashed-1',
      submittedBy: 'arn:aws:iam::123456789012:role/client',
      createdAt: new Date(deps.clock.now() - deps.config.SUBMIT_STALE_MS - 1).toISOString(),
    });
    // As the store holds it: scoped to its caller.
    const stored = scopedIdempotencyKey('key-crashed-1', 'arn:aws:iam::123456789012:role/client');
    deps.jobs.idempotency.set(stored, {
      jobId: job.jobId,
      requestHash: 'h',
      expiresAtMs: deps.clock.now() + 3_600_000,
    });
    const summary = await sweep(deps, { remainingMs: plenty });
    expect(summary.rejected).toBe(1);
    expect((await deps.jobs.get(job.jobId))?.reason).toMatch(/^SUBMIT_NOT_SENT/);
    expect(deps.jobs.idempotency.has(stored)).toBe(false);
  });

  it('keeps waiting for the webhook of an ambiguous submit, which may well be running upstream', async () => {
    const job = await seed({
      state: 'SUBMITTING',
      upstreamId: undefined,
      submitAmbiguous: true,
      createdAt: new Date(deps.clock.now() - 3_600_000).toISOString(),
    });
    await sweep(deps, { remainingMs: plenty });
    const stored = await deps.jobs.get(job.jobId);
    expect(stored?.state).toBe('SUBMITTING');
    expect(stored?.dueAt).toBeGreaterThan(deps.clock.now());
  });

  it('counts an ambiguous submit’s job life from its /run attempt, not from hours spent queued', async () => {
    const hour = 3_600_000;
    const attemptedAt = deps.clock.now() - hour;
    const job = await seed({
      state: 'SUBMITTING',
      upstreamId: undefined,
      submitAmbiguous: true,
      policy: { ttl: hour },
      createdAt: new Date(attemptedAt - 3 * hour).toISOString(),
      queuedAt: new Date(attemptedAt - 3 * hour).toISOString(),
      runAttemptedAt: new Date(attemptedAt).toISOString(),
    });
    // From its creation the life (1 h + retention) is long over; the upstream's started at the /run.
    await sweep(deps, { remainingMs: plenty });
    const waiting = await deps.jobs.get(job.jobId);
    expect(waiting?.state).toBe('SUBMITTING');
    const endsAt = attemptedAt + deps.config.UPSTREAM_TIMEOUT_MS + hour + deps.config.RETENTION_MS;
    expect(waiting?.dueAt).toBeLessThanOrEqual(endsAt);

    deps.clock.advance(endsAt - deps.clock.now());
    await sweep(deps, { remainingMs: plenty });
    const settled = await deps.jobs.get(job.jobId);
    expect(settled?.state).toBe('REJECTED');
    expect(settled?.reason).toMatch(/^SUBMIT_UNCONFIRMED/);
    expect(deps.upstream.calls).toEqual([]);
  });

  it('polls a SUBMITTING job that has an upstream id (crash after /run answered)', async () => {
    const job = await seed({ state: 'SUBMITTING' });
    deps.upstream.statuses.set(job.upstreamId ?? '', {
      id: job.upstreamId ?? '',
      status: 'COMPLETED',
      output: 'x',
    });
    await sweep(deps, { remainingMs: plenty });
    expect((await deps.jobs.get(job.jobId))?.state).toBe('ARCHIVED');
  });
});
