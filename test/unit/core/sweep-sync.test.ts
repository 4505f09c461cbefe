// Runsync jobs past their wait are looked at first and every few seconds, however far behind the sweeper is.
import { beforeEach, describe, expect, it } from 'vitest';
import { submitJob } from '../../../functions/core/submit.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { seedDueJob } from '../../support/jobs.ts';

describe('runsync jobs in a sweeper backlog', () => {
  let deps: TestDeps;
  const backlog = 300;
  beforeEach(async () => {
    deps = testDeps({ SWEEP_BATCH: '20', SWEEP_REPEAT_MS: '3000' });
    // A sweeper minutes behind: hundreds of jobs overdue, all still running upstream.
    for (let i = 0; i < backlog; i++) {
      const job = await seedDueJob(deps, { dueAt: deps.clock.now() - 300_000 + i });
      deps.upstream.statuses.set(job.upstreamId ?? '', { id: job.upstreamId ?? '', status: 'IN_PROGRESS' });
    }
  });

  /** A runsync job whose wait ended before it did; its webhook will be lost. */
  const lateSyncJob = async () => {
    deps.upstream.runSyncImpl = async () => {
      const status = { id: 'sync-1', status: 'IN_PROGRESS' };
      return { status, raw: Buffer.from(JSON.stringify(status)) };
    };
    deps.upstream.statuses.set('sync-1', { id: 'sync-1', status: 'IN_PROGRESS' });
    return (await submitJob(deps, { input: { prompt: 'now' }, sync: true })).job;
  };
  const looksAt = (upstreamId: string) =>
    deps.upstream.calls
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.op === 'status' && c.args[1] === upstreamId)
      .map(({ i }) => i);

  it('is looked at in the first round, ahead of every overdue job', async () => {
    const job = await lateSyncJob();
    expect(job.state).toBe('PENDING');
    await sweep(deps, { remainingMs: () => 600_000, concurrency: 4 });
    const first = looksAt('sync-1')[0];
    expect(first).toBeDefined();
    const statusCallsBefore = deps.upstream.calls.slice(0, first).filter((c) => c.op === 'status').length;
    expect(statusCallsBefore).toBeLessThan(20);
  });

  it('is looked at again in every round of a long pass, not once per pass', async () => {
    await lateSyncJob();
    // Each look of the backlog takes a second of the pass.
    const status = deps.upstream.status.bind(deps.upstream);
    deps.upstream.status = async (endpoint, upstreamId) => {
      if (upstreamId !== 'sync-1') deps.clock.advance(1000);
      return status(endpoint, upstreamId);
    };
    await sweep(deps, { remainingMs: () => 600_000, concurrency: 1 });
    // A 300 s pass of 20-job rounds (20 s each here): the runsync job is looked at in each of them.
    expect(looksAt('sync-1').length).toBeGreaterThanOrEqual(backlog / 20 - 1);
  });

  it('keeps the lag metric about the backlog, not about the runsync job sorted ahead', async () => {
    await lateSyncJob();
    const summary = await sweep(deps, { remainingMs: () => 600_000 });
    expect(summary.oldestDueAgeMs).toBeLessThanOrEqual(300_000);
  });
});
