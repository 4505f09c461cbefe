// Chaos fixes: settled jobs stay due until announced; leases of failed or dead captures are bounded and skipped.
import { beforeEach, describe, expect, it } from 'vitest';
import { captureResult } from '../../../functions/core/capture.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { ANNOUNCE_AFTER_MS } from '../../../functions/core/transitions.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { seedDueJob } from '../../support/jobs.ts';

const plenty = () => 600_000;

describe('announcing settled jobs and bounding leases (chaos fixes)', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  const seed = (overrides = {}) => seedDueJob(deps, overrides);

  it('keeps an archived job due until its archived event and Job Archived are out, then lets it go', async () => {
    const job = await seed();
    const dueWhileAnnouncing: Array<number | undefined> = [];
    const publish = deps.events.publish.bind(deps.events);
    deps.events.publish = async (type, published) => {
      dueWhileAnnouncing.push((await deps.jobs.get(published.jobId))?.dueAt);
      return publish(type, published);
    };
    const outcome = await captureResult(deps, job, {
      status: { id: job.upstreamId ?? '', status: 'COMPLETED', output: 1 },
      source: 'webhook',
    });
    expect(dueWhileAnnouncing).toEqual([deps.clock.now() + ANNOUNCE_AFTER_MS]);
    expect(outcome.job.dueAt).toBeUndefined();
    expect((await deps.jobs.get(job.jobId))?.dueAt).toBeUndefined();
  });

  it('the sweeper announces an archive whose capture died between its write and its events', async () => {
    // What a capture killed right after the ARCHIVED write leaves: archived, still due, announcement pending.
    const job = await seed({
      state: 'ARCHIVED',
      announcePending: true,
      captureSource: 'webhook',
      upstreamStatus: 'COMPLETED',
      resultKey: 'jobs/r.json',
      dueAt: deps.clock.now() - 1,
    });
    const summary = await sweep(deps, { remainingMs: plenty });

    expect(summary.polled).toBe(0);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['archived']);
    expect(deps.events.published.map((e) => [e.type, e.job.jobId])).toEqual([['Job Archived', job.jobId]]);
    expect(deps.metrics.get('JobsArchived')).toBe(1);
    expect((await deps.jobs.get(job.jobId))?.dueAt).toBeUndefined();
  });

  it('an expiry whose sweeper died before its alarm metric still raises it', async () => {
    const job = await seed({
      state: 'EXPIRED',
      announcePending: true,
      expiredAt: new Date(deps.clock.now()).toISOString(),
    });
    await deps.jobs.appendEvent({ jobId: job.jobId, at: job.createdAt, type: 'created' });
    await sweep(deps, { remainingMs: plenty });
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['created', 'expired']);
    expect(deps.metrics.get('JobsExpired')).toBe(1);
    expect(deps.events.published.map((e) => e.type)).toEqual(['Job Expired']);
  });

  it('announces once: an event already written is not written again, only the job event is re-sent', async () => {
    const job = await seed({
      state: 'ARCHIVED',
      announcePending: true,
      captureSource: 'sweeper',
      upstreamStatus: 'COMPLETED',
    });
    await deps.jobs.appendEvent({ jobId: job.jobId, at: job.createdAt, type: 'archived', source: 'sweeper' });
    await sweep(deps, { remainingMs: plenty });
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['archived']);
    expect(deps.metrics.get('JobsArchived')).toBe(0);
    expect(deps.events.published).toHaveLength(1);
  });

  it('a capture of a runsync job takes a lease that runs out well inside the 60 s runsync retention', async () => {
    const job = await seed({ sync: true });
    const claim = deps.jobs.claimCapture.bind(deps.jobs);
    const leases: number[] = [];
    deps.jobs.claimCapture = async (jobId, owner, nowMs, leaseMs) => {
      leases.push(leaseMs);
      return claim(jobId, owner, nowMs, leaseMs);
    };
    await captureResult(deps, job, {
      status: { id: job.upstreamId ?? '', status: 'COMPLETED' },
      source: 'sweeper',
    });
    expect(leases).toEqual([deps.config.SYNC_CAPTURE_LEASE_MS]);
    expect(deps.config.SYNC_CAPTURE_LEASE_MS).toBeLessThanOrEqual(30_000);
  });

  it('skips a job another capture holds without polling it, and takes it first once the lease runs out', async () => {
    const leaseUntil = deps.clock.now() + 90_000;
    const held = await seed({ leaseOwner: 'dead capture', leaseUntil, dueAt: deps.clock.now() - 60_000 });
    deps.upstream.statuses.set(held.upstreamId ?? '', { id: held.upstreamId ?? '', status: 'COMPLETED' });
    await sweep(deps, { remainingMs: plenty });
    expect(deps.upstream.count('status')).toBe(0);
    expect(deps.jobs.eventTypes(held.jobId)).toEqual([]);
    // It kept its place: the first pass after the lease runs out polls it before anything due later.
    const later = await seed({ dueAt: deps.clock.now() });
    deps.upstream.statuses.set(later.upstreamId ?? '', { id: later.upstreamId ?? '', status: 'IN_QUEUE' });
    deps.clock.advance(90_001);
    await sweep(deps, { remainingMs: plenty, concurrency: 1 });
    expect(deps.upstream.calls.filter((c) => c.op === 'status').map((c) => c.args[1])).toEqual([
      held.upstreamId,
      later.upstreamId,
    ]);
    expect((await deps.jobs.get(held.jobId))?.state).toBe('ARCHIVED');
  });

  it('a capture that fails frees its lease even when the store error that failed it lingers', async () => {
    const job = await seed();
    const apply = deps.jobs.apply.bind(deps.jobs);
    let failures = 3; // the ARCHIVED write, then the first two tries of the lease release
    deps.jobs.apply = async (jobId, transition) => {
      const { patch } = transition;
      if ((patch.state === 'ARCHIVED' || patch.leaseOwner === null) && failures-- > 0)
        throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
      return apply(jobId, transition);
    };
    await expect(
      captureResult(deps, job, {
        status: { id: job.upstreamId ?? '', status: 'COMPLETED' },
        source: 'webhook',
      }),
    ).rejects.toThrow('Service Unavailable');
    expect((await deps.jobs.get(job.jobId))?.leaseUntil).toBeUndefined();
  });
});
