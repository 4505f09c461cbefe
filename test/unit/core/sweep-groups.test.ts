// The sweeper's fan-out: every due shard in exactly one group, and a group with a backlog never delays another.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueShardOf } from '../../../functions/core/schedule.ts';
import { shardsOfGroup, sweepGroupNames } from '../../../functions/core/sweep-groups.ts';
import { sweepEveryGroup, sweepInvocation } from '../../../functions/core/sweep-invocation.ts';
import { testDeps } from '../../support/fakes.ts';
import { seedDueJob } from '../../support/jobs.ts';

describe('sweep groups', () => {
  it('put every due shard in exactly one group, for any number of groups up to the shards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (shards, wanted) => {
        const groups = Math.min(wanted, shards);
        const all = sweepGroupNames(groups).flatMap((g) => shardsOfGroup(g, groups, shards));
        expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: shards }, (_, i) => i));
      }),
    );
  });

  it('refuse an unknown group before anything is read', async () => {
    const deps = testDeps({ SWEEP_GROUPS: '2' });
    await expect(
      sweepInvocation(deps, undefined, { remainingMs: () => 60_000, group: '7of2' }),
    ).rejects.toThrow(/unknown sweep group "7of2"/);
    expect(deps.upstream.calls).toEqual([]);
  });

  it('sweep only their own shards, under their own lease name', async () => {
    const deps = testDeps({ SWEEP_GROUPS: '2', SWEEP_INVOCATION_MS: '0' });
    const jobs = await Promise.all(Array.from({ length: 12 }, () => seedDueJob(deps)));
    for (const job of jobs)
      deps.upstream.statuses.set(job.upstreamId ?? '', {
        id: job.upstreamId ?? '',
        status: 'COMPLETED',
        output: 1,
      });
    const taken: string[] = [];
    const lease = {
      take: async (group: string) => {
        taken.push(group);
        return true;
      },
      release: async () => undefined,
    };
    const summary = await sweepInvocation(deps, lease, { remainingMs: () => 60_000, group: '1of2' });
    const mine = jobs.filter((j) => dueShardOf(j.jobId, 4) % 2 === 1);
    expect(taken[0]).toBe('1of2');
    expect(summary.archived).toBe(mine.length);
    const polled = new Set(deps.upstream.calls.map((c) => c.args[1]));
    expect(polled).toEqual(new Set(mine.map((j) => j.upstreamId)));
  });

  it('are swept side by side: a group with a backlog does not hold back the other group’s job', async () => {
    const deps = testDeps({ SWEEP_GROUPS: '2', SWEEP_INVOCATION_MS: '0' });
    const backlog = [];
    let lonely: Awaited<ReturnType<typeof seedDueJob>> | undefined;
    // 200 due jobs in group 0's shards, one in group 1's.
    while (backlog.length < 200 || !lonely) {
      const job = await seedDueJob(deps);
      if (dueShardOf(job.jobId, 4) % 2 === 0) backlog.push(job);
      else if (!lonely) lonely = job;
      else await deps.jobs.arrange(job.jobId, { dueAt: null });
      if (backlog.length > 200) await deps.jobs.arrange(job.jobId, { dueAt: null });
    }
    const order: string[] = [];
    deps.upstream.statusImpl = async (_endpoint, upstreamId) => {
      order.push(upstreamId);
      await new Promise((resolve) => setImmediate(resolve));
      const status = { id: upstreamId, status: 'COMPLETED', output: 1 };
      return { status, raw: Buffer.from(JSON.stringify(status)) };
    };
    const summary = await sweepEveryGroup(deps, undefined, { remainingMs: () => 600_000 });
    expect(summary.archived).toBe(201);
    // Its look is among the first in flight, not after group 0's 200.
    expect(order.indexOf(lonely.upstreamId ?? '')).toBeLessThan(40);
  });
});
