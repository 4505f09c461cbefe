// The run claim under lost answers: a request whose claim write landed but whose answer did not still sends its job.
import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentUpdateError } from '../../../functions/core/errors.ts';
import { submitJob } from '../../../functions/core/submit.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';

const KEY = 'order-2207-run-claim';
const request = { input: { prompt: 'a harbour at dusk' } };

/** A store error after the write was applied ("may or may not have succeeded"). */
const appliedThenError = () =>
  Object.assign(new Error('We encountered an internal error'), { name: 'InternalServerError' });

describe('the run claim when its answer is lost', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  /** The claim write lands, then the SDK retries it (its answer was lost) and meets its own condition. */
  const loseClaimAnswer = (answer: 'conflict' | 'error') => {
    const apply = deps.jobs.apply.bind(deps.jobs);
    let once = true;
    deps.jobs.apply = async (jobId, transition) => {
      const { patch } = transition;
      const result = await apply(jobId, transition);
      if (once && patch.runAttemptedAt) {
        once = false;
        if (answer === 'error') throw appliedThenError();
        // The retry of the applied write: runAttemptedAt is no longer absent.
        await apply(jobId, transition);
        throw new ConcurrentUpdateError(jobId, 'taking the run claim');
      }
      return result;
    };
  };

  it('a claim that landed before its retry met its own condition is sent, once', async () => {
    loseClaimAnswer('conflict');
    const { job } = await submitJob(deps, request, KEY);
    expect(deps.upstream.count('run')).toBe(1);
    expect(job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['created', 'input.archived', 'submitted']);
  });

  it('a claim that landed but answered with a store error is sent, and the retry only replays it', async () => {
    loseClaimAnswer('error');
    const { job } = await submitJob(deps, request, KEY);
    expect(deps.upstream.count('run')).toBe(1);
    expect(job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });

    const retried = await submitJob(deps, request, KEY);
    expect(retried).toMatchObject({ created: false, job: { jobId: job.jobId, state: 'PENDING' } });
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('a request that lost the claim to another one does not call /run', async () => {
    const apply = deps.jobs.apply.bind(deps.jobs);
    let once = true;
    deps.jobs.apply = async (jobId, transition) => {
      const { patch } = transition;
      if (once && patch.runAttemptedAt) {
        once = false;
        // Another request with the same key took the claim a moment earlier.
        await apply(jobId, {
          ...transition,
          patch: { runAttemptedAt: new Date(deps.clock.now()).toISOString() },
        });
      }
      return apply(jobId, transition);
    };
    const { job } = await submitJob(deps, request, KEY);
    expect(deps.upstream.count('run')).toBe(0);
    expect(job.state).toBe('SUBMITTING');
  });
});
