// A result in hand for a job the sweeper expired a moment earlier is archived, once, not thrown away.
import { beforeEach, describe, expect, it } from 'vitest';
import { captureResult } from '../../../functions/core/capture.ts';
import { submitJob } from '../../../functions/core/submit.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const UP = 'sync-up-7';
const completed = { id: UP, status: 'COMPLETED', output: { text: 'a harbour at dusk' } };
const fetched = { status: completed, raw: Buffer.from(JSON.stringify(completed)) };
const EXPIRY = 'upstream answered 404 before the result was captured';

describe('a final result that turns up after the job expired', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps({ WEBHOOK_VERIFICATION: 'trust' });
  });

  /** What the sweeper does on the upstream's 404 (sweep.ts): expire, then announce (unless told not to yet). */
  const expire = async (jobId: string, { announce = true } = {}) => {
    const expired = await deps.jobs.expire(jobId, EXPIRY, deps.clock.now());
    const announceIt = async () => {
      await deps.events.publish('Job Expired', expired);
      await deps.jobs.markAnnounced(jobId, 'EXPIRED', deps.clock.now());
    };
    if (announce) await announceIt();
    return announceIt;
  };
  const archivedLine = (jobId: string) =>
    deps.jobs.events.find((e) => e.jobId === jobId && e.type === 'archived');

  it('archives a runsync answer that arrives after the sweeper expired the job', async () => {
    deps.upstream.runSyncImpl = async () => {
      // The slow machine: the sweeper saw the result's 404 upstream before this answer was processed.
      const [job] = [...deps.jobs.jobs.values()];
      if (job) await expire(job.jobId);
      return fetched;
    };
    const { job } = await submitJob(deps, { input: { prompt: 'a harbour at dusk' }, sync: true });

    expect(job).toMatchObject({ state: 'ARCHIVED', upstreamStatus: 'COMPLETED', captureSource: 'runsync' });
    expect(job.reason).toBeUndefined();
    expect(job.expiredAt).toBeDefined();
    expect(job.announcePending).toBeUndefined();
    expect(archivedLine(job.jobId)?.detail).toMatchObject({ afterExpiry: true });
    expect(deps.events.published.map((p) => p.type)).toEqual(['Job Expired', 'Job Archived']);
    expect(deps.metrics.get('JobsArchived')).toBe(1);
    expect(deps.jobs.eventTypes(job.jobId)).not.toContain('capture.duplicate');
    expect(deps.archive.objects.has(job.resultKey ?? '')).toBe(true);
  });

  it('waits for the expiry to be announced, then archives after it', async () => {
    const job = pendingJob({ upstreamId: UP, sync: true });
    await deps.jobs.create(job);
    const announce = await expire(job.jobId, { announce: false });
    // The sweeper announces while the capture waits for it: the claim refused, the announcement lands.
    const apply = deps.jobs.apply.bind(deps.jobs);
    let announced = false;
    deps.jobs.apply = async (jobId, transition) => {
      try {
        return await apply(jobId, transition);
      } catch (err) {
        if (transition.name === 'claimCapture' && !announced) {
          announced = true;
          await announce();
        }
        throw err;
      }
    };
    const outcome = await captureResult(deps, job.jobId, { ...fetched, source: 'runsync' });

    expect(outcome.kind).toBe('archived');
    expect(deps.events.published.map((p) => p.type)).toEqual(['Job Expired', 'Job Archived']);
  });

  it('archives exactly once when two late results race for it', async () => {
    const job = pendingJob({ upstreamId: UP, sync: true });
    await deps.jobs.create(job);
    await expire(job.jobId);
    const outcomes = await Promise.all([
      captureResult(deps, job.jobId, { ...fetched, source: 'runsync' }),
      captureResult(deps, job.jobId, { ...fetched, source: 'sweeper' }),
    ]);
    expect(outcomes.filter((o) => o.kind === 'archived')).toHaveLength(1);
    expect(deps.events.published.filter((p) => p.type === 'Job Archived')).toHaveLength(1);
    const again = await captureResult(deps, job.jobId, { ...fetched, source: 'sweeper' });
    expect(again.kind).toBe('duplicate');
  });

  it('keeps an expired job expired for a status that is not final, and a rejected one for any', async () => {
    const job = pendingJob({ upstreamId: UP });
    await deps.jobs.create(job);
    await expire(job.jobId);
    const running = { id: UP, status: 'IN_PROGRESS' };
    expect((await captureResult(deps, job.jobId, { status: running, source: 'sweeper' })).kind).toBe(
      'duplicate',
    );
    const refused = pendingJob({ state: 'REJECTED', upstreamId: 'other' });
    await deps.jobs.create(refused);
    expect((await captureResult(deps, refused.jobId, { ...fetched, source: 'sweeper' })).kind).toBe(
      'duplicate',
    );
    expect((await deps.jobs.get(job.jobId))?.state).toBe('EXPIRED');
    expect((await deps.jobs.get(refused.jobId))?.state).toBe('REJECTED');
  });

  const deliver = async (policy: 'trust' | 'background' | 'strict') => {
    deps = testDeps({ WEBHOOK_VERIFICATION: policy });
    const job = pendingJob({ upstreamId: UP });
    await deps.jobs.create(job);
    await expire(job.jobId);
    const outcome = await receiveWebhook(deps, {
      jobId: job.jobId,
      token: signWebhookToken(WEBHOOK_SECRET, job.jobId),
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(completed)),
    });
    return { outcome, job: await deps.jobs.get(job.jobId) };
  };

  it.each(['trust', 'background'] as const)(
    'archives a webhook body for an expired job as delivered under the %s policy',
    async (policy) => {
      const { outcome, job } = await deliver(policy);
      expect(outcome).toBe('archived');
      expect(job).toMatchObject({ state: 'ARCHIVED', provenance: 'as-delivered', captureSource: 'webhook' });
      expect(job?.reason).toBeUndefined();
      expect(archivedLine(job?.jobId ?? '')?.detail).toMatchObject({ afterExpiry: true });
      expect(deps.upstream.count('status')).toBe(0);
    },
  );

  it('leaves an expired job expired under the strict policy, its webhook a duplicate', async () => {
    const { outcome, job } = await deliver('strict');
    expect(outcome).toBe('duplicate');
    expect(job).toMatchObject({ state: 'EXPIRED', reason: EXPIRY });
    expect(deps.jobs.eventTypes(job?.jobId ?? '')).toContain('webhook.duplicate');
  });
});
