import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { captureResult } from '../../../functions/core/capture.ts';
import type { UpstreamStatus } from '../../../functions/schemas/upstream.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(`test/fixtures/upstream/${name}.json`, 'utf8')) as UpstreamStatus;
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('captureResult', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  async function seed(overrides = {}) {
    const job = pendingJob(overrides);
    await deps.jobs.create(job);
    return job;
  }

  it('archives a final status: result.json holds the status as received, the record points at it', async () => {
    const status = fixture('status-completed-text');
    const job = await seed({ upstreamId: status.id });
    const raw = Buffer.from(JSON.stringify(status, null, 1));

    const outcome = await captureResult(deps, job.jobId, { status, raw, source: 'sweeper' });

    expect(outcome.kind).toBe('archived');
    const stored = await deps.jobs.get(job.jobId);
    expect(stored).toMatchObject({
      state: 'ARCHIVED',
      upstreamStatus: 'COMPLETED',
      captureSource: 'sweeper',
      delayTime: 31618,
      executionTime: 1437,
      resultKey: `jobs/2026/11/29/${job.jobId}/result.json`,
    });
    expect(stored?.dueAt).toBeUndefined();
    expect(stored?.leaseOwner).toBeUndefined();
    const body = deps.archive.objects.get(stored?.resultKey ?? '')?.body.toString('utf8') ?? '';
    // The raw bytes are kept exactly, formatting included.
    expect(body).toContain(raw.toString('utf8'));
    expect(JSON.parse(body)).toEqual({
      archive: {
        schemaVersion: 2,
        jobId: job.jobId,
        endpoint: 'default',
        upstreamId: status.id,
        createdAt: job.createdAt,
        provenance: 'verified',
      },
      status,
    });
    expect(stored?.resultBytes).toBe(Buffer.byteLength(body));
    expect(deps.events.published.map((e) => e.type)).toEqual(['Job Archived']);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['archived']);
    expect(deps.metrics.get('JobsArchived')).toBe(1);
  });

  it('archives FAILED jobs with their error as the reason', async () => {
    const status = fixture('status-failed-error-json-string');
    const job = await seed({ upstreamId: status.id });
    await captureResult(deps, job.jobId, { status, source: 'webhook' });
    const stored = await deps.jobs.get(job.jobId);
    expect(stored).toMatchObject({ state: 'ARCHIVED', upstreamStatus: 'FAILED', captureSource: 'webhook' });
    expect(stored?.reason).toContain('CUDA out of memory');
  });

  it('archives COMPLETED without output', async () => {
    const status = fixture('status-completed-no-output');
    const job = await seed({ upstreamId: status.id });
    expect((await captureResult(deps, job.jobId, { status, source: 'sweeper' })).kind).toBe('archived');
  });

  it('never stores the webhook URL (it carries the token) nor the echoed input', async () => {
    const body = JSON.parse(readFileSync('test/fixtures/webhook/completed.json', 'utf8')) as UpstreamStatus;
    const job = await seed({ upstreamId: body.id });
    await captureResult(deps, job.jobId, { status: body, source: 'webhook' });
    const doc = deps.archive.json(`jobs/2026/11/29/${job.jobId}/result.json`) as {
      status: Record<string, unknown>;
    };
    expect(doc.status.webhook).toBeUndefined();
    expect(doc.status.input).toBeUndefined();
    expect(doc.status.output).toEqual(body.output);
  });

  it('stores base64 images of the output as real image files, and keeps the output intact', async () => {
    const status = {
      id: 'up-img',
      status: 'COMPLETED',
      output: { images: [`data:image/png;base64,${PNG}`], seed: 7 },
    };
    const job = await seed({ upstreamId: 'up-img' });
    await captureResult(deps, job.jobId, { status, source: 'sweeper' });
    const stored = await deps.jobs.get(job.jobId);
    expect(stored?.artifacts).toEqual([
      {
        key: `jobs/2026/11/29/${job.jobId}/artifacts/0-images-0.png`,
        contentType: 'image/png',
        bytes: Buffer.from(PNG, 'base64').length,
        from: 'output.images[0]',
      },
    ]);
    const file = deps.archive.objects.get(stored?.artifacts?.[0]?.key ?? '');
    expect(file?.contentType).toBe('image/png');
    expect(file?.body.equals(Buffer.from(PNG, 'base64'))).toBe(true);
  });

  it('reschedules a job that is not finished, moving SUBMITTING to PENDING', async () => {
    const job = await seed({ state: 'SUBMITTING', upstreamId: undefined, submittedAt: undefined });
    const outcome = await captureResult(deps, job.jobId, {
      status: { id: 'up-9', status: 'IN_PROGRESS' },
      source: 'webhook',
    });
    expect(outcome.kind).toBe('rescheduled');
    const stored = await deps.jobs.get(job.jobId);
    expect(stored).toMatchObject({ state: 'PENDING', upstreamId: 'up-9', upstreamStatus: 'IN_PROGRESS' });
    expect(stored?.dueAt).toBeGreaterThan(deps.clock.now());
    expect(deps.archive.puts).toBe(0);
  });

  it('looks again within 60 s at an unfinished runsync job, whose result the upstream keeps for 60 s only', async () => {
    const job = await seed({ sync: true });
    await captureResult(deps, job.jobId, {
      status: { id: job.upstreamId ?? '', status: 'IN_PROGRESS' },
      source: 'sweeper',
    });
    const dueAt = (await deps.jobs.get(job.jobId))?.dueAt ?? 0;
    expect(dueAt - deps.clock.now()).toBeLessThan(60_000);
  });

  it('keeps unknown upstream states as not final', async () => {
    const status = fixture('status-running-unknown-fields');
    const job = await seed({ upstreamId: status.id });
    expect((await captureResult(deps, job.jobId, { status, source: 'sweeper' })).kind).toBe('rescheduled');
    expect((await deps.jobs.get(job.jobId))?.upstreamStatus).toBe('RUNNING');
  });

  it('records a second capture as a duplicate and rewrites nothing', async () => {
    const status = fixture('status-completed-text');
    const job = await seed({ upstreamId: status.id });
    await captureResult(deps, job.jobId, { status, source: 'webhook' });
    const before = await deps.jobs.get(job.jobId);
    const puts = deps.archive.puts;

    const again = await captureResult(deps, job.jobId, { status, source: 'webhook' });

    expect(again.kind).toBe('duplicate');
    expect(deps.archive.puts).toBe(puts);
    expect(await deps.jobs.get(job.jobId)).toEqual(before);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['archived', 'webhook.duplicate']);
    expect(deps.metrics.get('DuplicateCaptures')).toBe(1);
    expect(deps.events.published).toHaveLength(1);
  });

  it('lets only one of several simultaneous captures archive', async () => {
    const status = fixture('status-completed-text');
    const job = await seed({ upstreamId: status.id });
    const outcomes = await Promise.all([
      captureResult(deps, job.jobId, { status, source: 'webhook' }),
      captureResult(deps, job.jobId, { status, source: 'webhook' }),
      captureResult(deps, job.jobId, { status, source: 'sweeper' }),
    ]);
    expect(outcomes.filter((o) => o.kind === 'archived')).toHaveLength(1);
    expect(deps.events.published).toHaveLength(1);
    expect(deps.jobs.eventTypes(job.jobId).filter((t) => t === 'archived')).toHaveLength(1);
  });

  it('takes over a capture whose lease ran out (the first capturer crashed)', async () => {
    const status = fixture('status-completed-text');
    const job = await seed({
      upstreamId: status.id,
      leaseOwner: 'crashed',
      leaseUntil: deps.clock.now() - 1,
    });
    expect((await captureResult(deps, job.jobId, { status, source: 'sweeper' })).kind).toBe('archived');
  });

  it('does not pass a live lease held by another capture', async () => {
    const status = fixture('status-completed-text');
    const job = await seed({
      upstreamId: status.id,
      leaseOwner: 'other',
      leaseUntil: deps.clock.now() + 60_000,
    });
    expect((await captureResult(deps, job.jobId, { status, source: 'sweeper' })).kind).toBe('in-progress');
    expect(deps.archive.puts).toBe(0);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['capture.concurrent']);
  });

  it('still archives when publishing the event fails, and counts the failure', async () => {
    deps.events.publish = async () => {
      throw new Error('EventBridge down');
    };
    const status = fixture('status-completed-text');
    const job = await seed({ upstreamId: status.id });
    expect((await captureResult(deps, job.jobId, { status, source: 'sweeper' })).kind).toBe('archived');
    expect(deps.metrics.get('EventPublishFailures')).toBe(1);
  });

  it('leaves the job watched when the archive write fails, so a later look retries', async () => {
    deps.archive.putJson = async () => {
      throw new Error('S3 unavailable');
    };
    const status = fixture('status-completed-text');
    const job = await seed({ upstreamId: status.id });
    await expect(captureResult(deps, job.jobId, { status, source: 'sweeper' })).rejects.toThrow(
      'S3 unavailable',
    );
    const stored = await deps.jobs.get(job.jobId);
    expect(stored?.state).toBe('PENDING');
    expect(stored?.dueAt).toBeDefined();
  });
});
