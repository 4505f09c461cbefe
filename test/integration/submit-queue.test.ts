// The queue path end to end in local mode: real HTTP, the embedded SQS server, the submitter, the emulator.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicJob } from '../../functions/core/results.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { FAST_CONFIG, FAST_EMULATOR } from '../support/e2e-stack.ts';

interface BatchLine {
  index: number;
  status: number;
  job?: PublicJob;
  replayed?: boolean;
  error?: { code: string };
}

describe('queued submission (local mode)', () => {
  let stack: LocalStack;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-queue-'));
    stack = await startLocalStack({
      port: 0,
      dataDir,
      dynamoInMemory: true,
      sweepIntervalMs: 250,
      config: FAST_CONFIG,
      emulator: FAST_EMULATOR,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const getJob = async (jobId: string) =>
    ((await (await fetch(`${stack.url}/jobs/${jobId}`)).json()) as { job: PublicJob }).job;
  /** Waits (by looking again) until the job leaves the submit path; the test runner's timeout bounds it. */
  const settled = async (jobId: string): Promise<PublicJob> => {
    for (;;) {
      const job = await getJob(jobId);
      if (job.state === 'ARCHIVED' || job.state === 'REJECTED' || job.state === 'EXPIRED') return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('accepts a job as QUEUED with its place and an estimate, then sends it once and archives it', async () => {
    const { status, body } = await post('/jobs', { queue: true, input: { prompt: 'queued' } });
    expect(status).toBe(202);
    const job = body.job as PublicJob;
    expect(job.state).toBe('QUEUED');
    expect(job.queuePlace).toBeGreaterThanOrEqual(1);
    expect(Date.parse(job.estimatedStartAt ?? '')).toBeGreaterThanOrEqual(Date.parse(job.queuedAt ?? ''));
    const done = await settled(job.jobId);
    expect(done.state).toBe('ARCHIVED');
    expect(done.upstreamId).toBeDefined();
    const upstream = stack.emulator?.jobs.list().filter((j) => j.id === done.upstreamId);
    expect(upstream).toHaveLength(1);
  });

  it('answers a batch line by line: bad lines alone refused, a repeated key replayed, each job sent once', async () => {
    const key = `batch-key-${Date.now()}`;
    const before = stack.emulator?.jobs.size ?? 0;
    const { status, body } = await post('/jobs/batch', {
      jobs: [
        { input: { n: 1 }, idempotencyKey: key },
        { input: 'not an object' },
        { input: { n: 2 }, metadata: { run: 'batch' } },
      ],
    });
    expect(status).toBe(207);
    const lines = body.results as BatchLine[];
    expect(lines.map((l) => l.status)).toEqual([202, 400, 202]);
    expect(lines[1]?.error?.code).toBe('INVALID_REQUEST');
    const again = await post('/jobs/batch', { jobs: [{ input: { n: 1 }, idempotencyKey: key }] });
    expect(again.status).toBe(202);
    const replay = (again.body.results as BatchLine[])[0];
    expect(replay?.replayed).toBe(true);
    expect(replay?.job?.jobId).toBe(lines[0]?.job?.jobId);
    const jobs = await Promise.all([lines[0], lines[2]].map((l) => settled(l?.job?.jobId ?? '')));
    expect(jobs.map((j) => j.state)).toEqual(['ARCHIVED', 'ARCHIVED']);
    expect((stack.emulator?.jobs.size ?? 0) - before).toBe(2);
  });

  it('refuses queue together with sync, and a batch over the bound, before anything is recorded', async () => {
    const both = await post('/jobs', { queue: true, sync: true, input: {} });
    expect(both.status).toBe(400);
    const tooMany = await post('/jobs/batch', { jobs: Array.from({ length: 101 }, () => ({ input: {} })) });
    expect(tooMany.status).toBe(400);
  });
});
