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

  /** The names of the transitions the store applied, in order. */
  const recordTransitions = () => {
    const names: string[] = [];
    const apply = deps.jobs.apply.bind(deps.jobs);
    deps.jobs.apply = async (jobId, transition) => {
      const job = await apply(jobId, transition);
      names.push(transition.name);
      return job;
    };
    return names;
  };

  it('a claim that landed unconfirmed (its answer and the read after it lost) is given back and taken again: the request sends it', async () => {
    const applied = recordTransitions();
    loseClaimAnswer('error');
    const get = deps.jobs.get.bind(deps.jobs);
    deps.jobs.get = async () => {
      throw appliedThenError();
    };
    // A concurrent retry that found the first claim answered its client with this job: this request must send it.
    const { job } = await submitJob(deps, request, KEY);
    expect(applied.slice(0, 3)).toEqual(['claimRun', 'releaseRunClaim', 'claimRun']);
    expect(job).toMatchObject({ state: 'PENDING' });
    expect(deps.upstream.count('run')).toBe(1);

    deps.jobs.get = get;
    const retried = await submitJob(deps, request, KEY);
    expect(retried).toMatchObject({ created: false, job: { jobId: job.jobId, state: 'PENDING' } });
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('a claim confirmed by the read after its lost answer is kept, not given back', async () => {
    const applied = recordTransitions();
    loseClaimAnswer('error');
    const { job } = await submitJob(deps, request, KEY);
    expect(job.state).toBe('PENDING');
    expect(applied).not.toContain('releaseRunClaim');
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('a resumed send whose trail cannot be read gives its claim back, so the next retry sends the job', async () => {
    // The first request stops before its claim: the input's write fails.
    const putJson = deps.archive.putJson.bind(deps.archive);
    let inputFails = true;
    deps.archive.putJson = async (...args) => {
      if (inputFails) {
        inputFails = false;
        throw appliedThenError();
      }
      return putJson(...args);
    };
    await expect(submitJob(deps, request, KEY)).rejects.toThrow('internal error');
    const listEvents = deps.jobs.listEvents.bind(deps.jobs);
    let trailFails = true;
    deps.jobs.listEvents = async (jobId) => {
      if (trailFails) {
        trailFails = false;
        throw appliedThenError();
      }
      return listEvents(jobId);
    };
    await expect(submitJob(deps, request, KEY)).rejects.toThrow('internal error');
    expect(deps.upstream.count('run')).toBe(0);
    const [left] = [...deps.jobs.jobs.values()];
    expect(left?.runAttemptedAt).toBeUndefined();

    const retried = await submitJob(deps, request, KEY);
    expect(retried.job.state).toBe('PENDING');
    expect(deps.upstream.count('run')).toBe(1);
  });
});
