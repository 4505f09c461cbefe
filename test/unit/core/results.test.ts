import { beforeEach, describe, expect, it } from 'vitest';
import { JobNotFoundError, ValidationError } from '../../../functions/core/errors.ts';
import { getJobView, listJobs } from '../../../functions/core/results.ts';
import { listQuerySchema } from '../../../functions/schemas/api.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

describe('results', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('returns the job with its audit trail and presigned links, never its lease bookkeeping', async () => {
    const job = pendingJob({
      state: 'ARCHIVED',
      resultKey: 'jobs/r.json',
      artifacts: [{ key: 'jobs/a.png', contentType: 'image/png', bytes: 3, from: 'output.image' }],
      leaseOwner: 'x',
      leaseUntil: 1,
    });
    await deps.jobs.create(job);
    await deps.jobs.appendEvent({ jobId: job.jobId, at: '2026-11-29T12:00:00.000Z', type: 'archived' });
    const view = await getJobView(deps, job.jobId);
    expect(view.job).not.toHaveProperty('leaseOwner');
    expect(view.job).not.toHaveProperty('dueAt');
    expect(view.events.map((e) => e.type)).toEqual(['archived']);
    expect(view.links.result).toBe('https://archive.example/jobs/r.json?ttl=900');
    expect(view.links.input).toContain(job.inputKey);
    expect(view.links.artifacts[0]).toMatchObject({ key: 'jobs/a.png', contentType: 'image/png' });
  });

  it('answers an unknown job with JobNotFoundError', async () => {
    await expect(getJobView(deps, '01JDXKQ5N8Y3V7M2R6T4W9Z0ZZ')).rejects.toThrow(JobNotFoundError);
  });

  it('lists by state within the default window, newest first', async () => {
    const a = pendingJob({ createdAt: '2026-11-28T10:00:00.000Z' });
    const b = pendingJob({ createdAt: '2026-11-29T10:00:00.000Z', state: 'ARCHIVED' });
    const c = pendingJob({ createdAt: '2026-11-29T11:00:00.000Z' });
    for (const j of [a, b, c]) await deps.jobs.create(j);
    const page = await listJobs(deps, listQuerySchema.parse({ state: 'PENDING' }));
    expect(page.jobs.map((j) => j.jobId)).toEqual([c.jobId, a.jobId]);
  });

  it('finds failed jobs among the archived by their upstream status', async () => {
    const ok = pendingJob({ state: 'ARCHIVED', upstreamStatus: 'COMPLETED' });
    const failed = pendingJob({ state: 'ARCHIVED', upstreamStatus: 'FAILED' });
    for (const j of [ok, failed]) await deps.jobs.create(j);
    const page = await listJobs(deps, listQuerySchema.parse({ state: 'ARCHIVED', upstreamStatus: 'FAILED' }));
    expect(page.jobs.map((j) => j.jobId)).toEqual([failed.jobId]);
  });

  it('refuses a reversed or too long time range', async () => {
    await expect(
      listJobs(deps, listQuerySchema.parse({ from: '2026-11-29T00:00:00Z', to: '2026-11-28T00:00:00Z' })),
    ).rejects.toThrow(ValidationError);
    await expect(
      listJobs(deps, listQuerySchema.parse({ from: '2024-01-01T00:00:00Z', to: '2026-11-28T00:00:00Z' })),
    ).rejects.toThrow(/400 days/);
  });
});
