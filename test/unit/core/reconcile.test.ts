import { beforeEach, describe, expect, it } from 'vitest';
import { JobStateConflictError, UpstreamNotFoundError } from '../../../functions/core/errors.ts';
import { reconcileJob } from '../../../functions/core/reconcile.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

describe('reconcileJob', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  const ambiguous = () => pendingJob({ state: 'SUBMITTING', upstreamId: undefined, submitAmbiguous: true });

  it('attaches the upstream id of an ambiguous submit once /status proves it, and archives a finished job', async () => {
    const job = ambiguous();
    await deps.jobs.create(job);
    deps.upstream.statuses.set('found-1', { id: 'found-1', status: 'COMPLETED', output: { text: 'ok' } });
    const result = await reconcileJob(deps, job.jobId, 'found-1');
    expect(result.outcome).toBe('archived');
    expect(result.job).toMatchObject({
      state: 'ARCHIVED',
      upstreamId: 'found-1',
      captureSource: 'reconcile',
    });
    expect(await deps.jobs.findByUpstream('default', 'found-1')).toBe(job.jobId);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['reconciled', 'archived']);
  });

  it('watches an attached job that is still running', async () => {
    const job = ambiguous();
    await deps.jobs.create(job);
    deps.upstream.statuses.set('found-2', { id: 'found-2', status: 'IN_PROGRESS' });
    const result = await reconcileJob(deps, job.jobId, 'found-2');
    expect(result.job).toMatchObject({ state: 'PENDING', upstreamId: 'found-2' });
  });

  it('refuses an upstream id the upstream does not know, changing nothing', async () => {
    const job = ambiguous();
    await deps.jobs.create(job);
    await expect(reconcileJob(deps, job.jobId, 'nope')).rejects.toThrow(UpstreamNotFoundError);
    expect(await deps.jobs.get(job.jobId)).toMatchObject({ state: 'SUBMITTING' });
    expect(deps.jobs.links.size).toBe(0);
  });

  it('never attaches one upstream job to two archiver jobs', async () => {
    const first = ambiguous();
    const second = ambiguous();
    await deps.jobs.create(first);
    await deps.jobs.create(second);
    deps.upstream.statuses.set('found-3', { id: 'found-3', status: 'IN_QUEUE' });
    await reconcileJob(deps, first.jobId, 'found-3');
    await expect(reconcileJob(deps, second.jobId, 'found-3')).rejects.toThrow(JobStateConflictError);
  });

  it('leaves settled jobs alone', async () => {
    const job = pendingJob({ state: 'ARCHIVED' });
    await deps.jobs.create(job);
    expect((await reconcileJob(deps, job.jobId)).outcome).toBe('unchanged');
    expect(deps.upstream.calls).toEqual([]);
  });
});
