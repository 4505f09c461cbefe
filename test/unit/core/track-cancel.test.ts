import { beforeEach, describe, expect, it } from 'vitest';
import { cancelJob } from '../../../functions/core/cancel.ts';
import {
  JobNotFoundError,
  JobStateConflictError,
  UpstreamNotFoundError,
} from '../../../functions/core/errors.ts';
import { trackJob } from '../../../functions/core/track.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

describe('trackJob', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('adopts a running job submitted elsewhere and watches it', async () => {
    deps.upstream.statuses.set('ext-1', { id: 'ext-1', status: 'IN_PROGRESS' });
    const { job, created } = await trackJob(deps, { upstreamId: 'ext-1', metadata: { from: 'batch' } });
    expect(created).toBe(true);
    expect(job).toMatchObject({
      state: 'PENDING',
      origin: 'tracked',
      upstreamId: 'ext-1',
      metadata: { from: 'batch' },
    });
    expect(job.dueAt).toBeDefined();
  });

  it('archives at once a job that has already finished', async () => {
    deps.upstream.statuses.set('ext-2', { id: 'ext-2', status: 'COMPLETED', output: { text: 'done' } });
    const { job } = await trackJob(deps, { upstreamId: 'ext-2' });
    expect(job).toMatchObject({ state: 'ARCHIVED', captureSource: 'track' });
  });

  it('returns the same job when tracked twice', async () => {
    deps.upstream.statuses.set('ext-3', { id: 'ext-3', status: 'IN_QUEUE' });
    const first = await trackJob(deps, { upstreamId: 'ext-3' });
    const second = await trackJob(deps, { upstreamId: 'ext-3' });
    expect(second).toEqual({ job: first.job, created: false });
  });

  it('refuses an id the upstream does not know, writing nothing', async () => {
    await expect(trackJob(deps, { upstreamId: 'nope' })).rejects.toThrow(UpstreamNotFoundError);
    expect(deps.jobs.jobs.size).toBe(0);
  });
});

describe('cancelJob', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('cancels upstream and archives the CANCELLED status without waiting for a webhook', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    deps.upstream.statuses.set(job.upstreamId ?? '', { id: job.upstreamId ?? '', status: 'IN_PROGRESS' });
    const cancelled = await cancelJob(deps, job.jobId);
    expect(cancelled).toMatchObject({
      state: 'ARCHIVED',
      upstreamStatus: 'CANCELLED',
      captureSource: 'cancel',
    });
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['cancel.requested', 'archived']);
  });

  it('answers with the job as the CANCELLED webhook settles it when that capture holds the job', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    deps.upstream.statuses.set(job.upstreamId ?? '', { id: job.upstreamId ?? '', status: 'IN_PROGRESS' });
    // The webhook /cancel set off is archiving the job already: its capture holds the lease.
    await deps.jobs.arrange(job.jobId, { leaseOwner: 'webhook', leaseUntil: deps.clock.now() + 30_000 });
    setTimeout(() => {
      void deps.jobs.arrange(job.jobId, {
        state: 'ARCHIVED',
        upstreamStatus: 'CANCELLED',
        captureSource: 'webhook',
        leaseOwner: null,
        leaseUntil: null,
      });
    }, 150);
    const cancelled = await cancelJob(deps, job.jobId);
    expect(cancelled).toMatchObject({
      state: 'ARCHIVED',
      upstreamStatus: 'CANCELLED',
      captureSource: 'webhook',
    });
  });

  it('refuses to cancel an archived job or an unknown one', async () => {
    const job = pendingJob({ state: 'ARCHIVED' });
    await deps.jobs.create(job);
    await expect(cancelJob(deps, job.jobId)).rejects.toThrow(JobStateConflictError);
    await expect(cancelJob(deps, '01JDXKQ5N8Y3V7M2R6T4W9Z0ZZ')).rejects.toThrow(JobNotFoundError);
    expect(deps.upstream.count('cancel')).toBe(0);
  });
});
