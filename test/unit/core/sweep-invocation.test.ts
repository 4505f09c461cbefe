// One sweeper invocation sweeps on while jobs come due within its window, and ends when none will.
import { beforeEach, describe, expect, it } from 'vitest';
import { sweepInvocation } from '../../../functions/core/sweep-invocation.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { seedDueJob } from '../../support/jobs.ts';

describe('a sweeper invocation', () => {
  let deps: TestDeps;
  /** The invocation's waits move the test clock instead of the real one. */
  const sleep = async (ms: number) => {
    deps.clock.advance(ms);
  };
  const remainingMs = () => 300_000;
  beforeEach(() => {
    deps = testDeps({ SWEEP_INVOCATION_MS: '50000', SWEEP_REPEAT_MS: '3000', FIRST_LOOK_MS: '120000' });
  });

  it('looks at a job that comes due 20 s into its minute, in the same invocation', async () => {
    const job = await seedDueJob(deps, { dueAt: deps.clock.now() + 20_000 });
    deps.upstream.statuses.set(job.upstreamId ?? '', {
      id: job.upstreamId ?? '',
      status: 'COMPLETED',
      output: 1,
    });
    const started = deps.clock.now();
    const summary = await sweepInvocation(deps, undefined, { remainingMs, sleep });
    expect(summary).toMatchObject({ leaseHeld: true, archived: 1 });
    expect(summary.passes).toBe(2);
    expect(deps.clock.now() - started).toBe(20_000);
  });

  it('ends after one pass when nothing comes due before its window closes', async () => {
    await seedDueJob(deps, { dueAt: deps.clock.now() + 55_000 });
    const summary = await sweepInvocation(deps, undefined, { remainingMs, sleep });
    expect(summary.passes).toBe(1);
    expect(deps.upstream.count('status')).toBe(0);
  });

  it('with SWEEP_INVOCATION_MS=0 is one pass per tick, as the sweeper was', async () => {
    deps = testDeps({ SWEEP_INVOCATION_MS: '0' });
    await seedDueJob(deps, { dueAt: deps.clock.now() + 1000 });
    const summary = await sweepInvocation(deps, undefined, { remainingMs, sleep });
    expect(summary.passes).toBe(1);
  });

  it('leaves the pass to the holder of the lease', async () => {
    await seedDueJob(deps);
    const held = { take: async () => false, release: async () => undefined };
    const summary = await sweepInvocation(deps, held, { remainingMs, sleep });
    expect(summary).toMatchObject({ leaseHeld: false, passes: 0 });
    expect(deps.upstream.count('status')).toBe(0);
  });
});
