// A settled job is announced once unless a process died: concurrent or stale announcers of a leftover publish nothing.
import { beforeEach, describe, expect, it } from 'vitest';
import { announceLeftover } from '../../../functions/core/announce.ts';
import { captureResult } from '../../../functions/core/capture.ts';
import type { Job } from '../../../functions/core/job.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { ANNOUNCE_AFTER_MS } from '../../../functions/core/transitions.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { seedDueJob } from '../../support/jobs.ts';

describe('announcing a settled job once', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  /** What a capture that stopped after its ARCHIVED write leaves behind, due for the sweeper now. */
  const leftover = () =>
    seedDueJob(deps, {
      state: 'ARCHIVED',
      announcePending: true,
      captureSource: 'sweeper',
      upstreamStatus: 'COMPLETED',
      resultKey: 'jobs/r.json',
      dueAt: deps.clock.now() - 1,
    });
  const archivedEvents = () => deps.events.published.filter((e) => e.type === 'Job Archived');

  it('two sweepers holding the same leftover at once publish one Job Archived', async () => {
    const job = await leftover();
    await Promise.all([announceLeftover(deps, job), announceLeftover(deps, job)]);
    expect(archivedEvents()).toHaveLength(1);
    expect((await deps.jobs.get(job.jobId))?.dueAt).toBeUndefined();
  });

  it('a sweep whose batch was read before the capture announced the job publishes nothing more', async () => {
    const job = await seedDueJob(deps, { dueAt: deps.clock.now() - 1 });
    const stale: Job[] = [];
    const queryDue = deps.jobs.queryDue.bind(deps.jobs);
    // The batch is read, then the webhook's capture archives and announces the job before the sweeper's
    // look; the look sees the batch's copy, as it would be settled and still due.
    deps.jobs.queryDue = async (...args) => {
      const page = await queryDue(...args);
      for (const j of page) stale.push({ ...j, state: 'ARCHIVED', dueAt: deps.clock.now() - 1 } as Job);
      await captureResult(deps, job, {
        status: { id: job.upstreamId ?? '', status: 'COMPLETED', output: 1 },
        source: 'webhook',
      });
      return stale.splice(0) as typeof page;
    };
    await sweep(deps, { remainingMs: () => 600_000 });
    expect(archivedEvents()).toHaveLength(1);
  });

  it('a claimer that died is followed by the next sweep once its claim runs out', async () => {
    const job = await leftover();
    const publish = deps.events.publish.bind(deps.events);
    deps.events.publish = async () => {
      // The first announcer dies here: claim taken, nothing published.
      deps.events.publish = publish;
      throw Object.assign(new Error('process gone'), { name: 'Killed' });
    };
    await announceLeftover(deps, job);
    expect(archivedEvents()).toHaveLength(0);
    await sweep(deps, { remainingMs: () => 600_000 });
    expect(archivedEvents()).toHaveLength(1);
  });

  it('a claim whose holder vanished without a word is taken over after ANNOUNCE_AFTER_MS', async () => {
    const job = await leftover();
    await deps.jobs.arrange(job.jobId, {
      leaseOwner: 'dead-sweeper',
      leaseUntil: deps.clock.now() + ANNOUNCE_AFTER_MS,
    });
    await announceLeftover(deps, job);
    expect(archivedEvents()).toHaveLength(0);
    deps.clock.advance(ANNOUNCE_AFTER_MS + 1);
    await announceLeftover(deps, job);
    expect(archivedEvents()).toHaveLength(1);
  });
});
