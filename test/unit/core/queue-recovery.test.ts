// No job stays QUEUED forever: a lost submit message is re-sent by the sweeper, and after a bound the job is rejected.
import { beforeEach, describe, expect, it } from 'vitest';
import { enqueueJob } from '../../../functions/core/enqueue.ts';
import { QUEUE_MAX_RESENDS, RESENDABLE_REQUEST_BYTES } from '../../../functions/core/queue-recovery.ts';
import { publicJob } from '../../../functions/core/results.ts';
import { drainBatch } from '../../../functions/core/submitter.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { type TestQueueDeps, testQueueDeps } from '../../support/queue-fakes.ts';

describe('queue recovery', () => {
  let deps: TestDeps;
  let queue: TestQueueDeps;
  const sweepNow = () => sweep(deps, { remainingMs: () => 60_000, queue, pause: async () => undefined });
  /** Moves the clock past the job's due time, as if its message had been waited for in vain. */
  const waitPastDue = async (jobId: string) => {
    const job = await deps.jobs.get(jobId);
    deps.clock.ms = Math.max(deps.clock.ms, (job?.dueAt ?? 0) + 1);
  };
  const lostJob = async (input: Record<string, unknown> = { prompt: 'a cat' }, idempotencyKey?: string) => {
    const { job } = await enqueueJob(deps, queue, { input, queue: true }, idempotencyKey);
    queue.queue.sent.splice(0); // the message never reached the queue (a crash, a local restart)
    return job.jobId;
  };

  beforeEach(() => {
    deps = testDeps();
    queue = testQueueDeps();
    deps.upstream.runImpl = async () => ({ id: 'up-1', status: 'IN_QUEUE' });
  });

  it('makes a QUEUED job due some margin after its estimated start, without showing its request', async () => {
    const { job } = await enqueueJob(deps, queue, { input: { secret: 'x' }, queue: true });
    const margin = deps.config.QUEUE_RECOVERY_MARGIN_MS;
    expect(job.dueAt).toBe(Date.parse(job.estimatedStartAt ?? '') + margin);
    expect(publicJob(job)).not.toHaveProperty('queuedRequest');
  });

  it('leaves a QUEUED job alone until it is due', async () => {
    await lostJob();
    await sweepNow();
    expect(queue.queue.sent).toHaveLength(0);
  });

  it('re-sends the message of a job still QUEUED past its due time; the submitter then sends it', async () => {
    const jobId = await lostJob();
    await waitPastDue(jobId);
    await sweepNow();
    expect(queue.queue.sent.map((s) => s.message)).toEqual([
      { jobId, endpoint: 'default', request: { input: { prompt: 'a cat' }, queue: true }, attempt: 0 },
    ]);
    const trail = await deps.jobs.listEvents(jobId);
    expect(trail.map((e) => e.type)).toContain('submit.resent');
    const messages = queue.queue.sent.map((s, i) => ({
      messageId: `m${i}`,
      body: JSON.stringify(s.message),
    }));
    await drainBatch(deps, queue, messages, { sleep: async () => undefined });
    expect((await deps.jobs.get(jobId))?.state).toBe('PENDING');
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('returns to the queue a job its submitter took and stopped with before the run claim, its message lost', async () => {
    const jobId = await lostJob();
    await deps.jobs.claimForSubmit(jobId, deps.clock.now() + deps.config.SUBMIT_STALE_MS);
    await waitPastDue(jobId);
    await sweepNow();
    // The client was told QUEUED: it is queued again and its message re-sent, not REJECTED as never sent.
    expect(await deps.jobs.get(jobId)).toMatchObject({ state: 'QUEUED', queueResends: 1 });
    const messages = queue.queue.sent
      .splice(0)
      .map((s, i) => ({ messageId: `m${i}`, body: JSON.stringify(s.message) }));
    expect(messages).toHaveLength(1);
    await drainBatch(deps, queue, messages, { sleep: async () => undefined });
    expect((await deps.jobs.get(jobId))?.state).toBe('PENDING');
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('leaves to its submitter a taken job whose run claim is held: never returned to the queue', async () => {
    const jobId = await lostJob();
    await deps.jobs.claimForSubmit(jobId, deps.clock.now() + deps.config.SUBMIT_STALE_MS);
    await deps.jobs.arrange(jobId, { runAttemptedAt: new Date(deps.clock.now()).toISOString() });
    await waitPastDue(jobId);
    await sweepNow();
    expect((await deps.jobs.get(jobId))?.state).toBe('SUBMITTING');
    expect(queue.queue.sent).toHaveLength(0);
  });

  it('does not re-send a job the submitter already took', async () => {
    const { job } = await enqueueJob(deps, queue, { input: {}, queue: true });
    const messages = queue.queue.sent
      .splice(0)
      .map((s) => ({ messageId: 'm', body: JSON.stringify(s.message) }));
    await drainBatch(deps, queue, messages, { sleep: async () => undefined });
    deps.clock.ms += deps.config.QUEUE_RECOVERY_MARGIN_MS * 2;
    await sweepNow();
    expect(queue.queue.sent).toHaveLength(0);
    expect((await deps.jobs.get(job.jobId))?.state).not.toBe('REJECTED');
  });

  it(`rejects a job whose message is lost ${QUEUE_MAX_RESENDS} times, freeing its Idempotency-Key`, async () => {
    const jobId = await lostJob({ n: 1 }, 'key-1');
    for (let i = 0; i < QUEUE_MAX_RESENDS; i++) {
      await waitPastDue(jobId);
      await sweepNow();
      queue.queue.sent.splice(0);
    }
    expect((await deps.jobs.get(jobId))?.state).toBe('QUEUED');
    await waitPastDue(jobId);
    await sweepNow();
    const job = await deps.jobs.get(jobId);
    expect(job?.state).toBe('REJECTED');
    expect(job?.reason).toMatch(/^QUEUE_LOST: .*re-sent 3 times.*submit it again/);
    expect(job?.queuedRequest).toBeUndefined();
    // The client's retry with the same key is a new job, not the rejected one.
    const retry = await enqueueJob(deps, queue, { input: { n: 1 }, queue: true }, 'key-1');
    expect(retry.job.jobId).not.toBe(jobId);
  });

  it('rejects at once a lost job whose request was too large to keep for a re-send', async () => {
    const jobId = await lostJob({ blob: 'x'.repeat(RESENDABLE_REQUEST_BYTES) });
    expect((await deps.jobs.get(jobId))?.queuedRequest).toBeUndefined();
    await waitPastDue(jobId);
    await sweepNow();
    const job = await deps.jobs.get(jobId);
    expect(job?.state).toBe('REJECTED');
    expect(job?.reason).toMatch(/too large to keep/);
    expect(queue.queue.sent).toHaveLength(0);
  });

  it('counts no re-send while the endpoint backs off from 429s: a long queue-full upstream loses no job', async () => {
    const jobId = await lostJob();
    // Ten times the re-sends that would reject it, each look during a fresh 429 pause of its endpoint.
    for (let i = 0; i < QUEUE_MAX_RESENDS * 10; i++) {
      await waitPastDue(jobId);
      await queue.runRate.backOff('default', deps.clock.now(), deps.clock.now(), 30_000);
      await sweepNow();
    }
    const job = await deps.jobs.get(jobId);
    expect(job).toMatchObject({ state: 'QUEUED' });
    expect(job?.queueResends ?? 0).toBe(0);
    expect(queue.queue.sent).toHaveLength(0);
    expect(job?.dueAt).toBeGreaterThan(deps.clock.now());
    // The endpoint flows again: a job still QUEUED a margin later is missing its message, and is re-sent.
    await waitPastDue(jobId);
    deps.clock.ms += deps.config.QUEUE_RECOVERY_MARGIN_MS;
    await sweepNow();
    expect(await deps.jobs.get(jobId)).toMatchObject({ state: 'QUEUED', queueResends: 1 });
    expect(queue.queue.sent).toHaveLength(1);
  });

  it("reads an endpoint's back-off once for a pass over many of its due QUEUED jobs", async () => {
    const jobIds = [];
    for (let i = 0; i < 40; i++) jobIds.push(await lostJob({ prompt: `cat ${i}` }));
    for (const jobId of jobIds) await waitPastDue(jobId);
    await queue.runRate.backOff('default', deps.clock.now(), deps.clock.now(), 30_000);
    queue.runRate.pauseReads = 0;
    const summary = await sweepNow();
    expect(summary.due).toBe(40);
    expect(queue.runRate.pauseReads).toBe(1);
    for (const jobId of jobIds) expect((await deps.jobs.get(jobId))?.queueResends ?? 0).toBe(0);
    expect(queue.queue.sent).toHaveLength(0);
  });

  it('keeps a job due again later when the queue refuses the re-send', async () => {
    const jobId = await lostJob();
    await waitPastDue(jobId);
    const dueBefore = (await deps.jobs.get(jobId))?.dueAt ?? 0;
    queue.queue.failNext = true;
    await sweepNow();
    const job = await deps.jobs.get(jobId);
    expect(job?.state).toBe('QUEUED');
    expect(job?.dueAt).toBeGreaterThan(dueBefore);
  });
});
