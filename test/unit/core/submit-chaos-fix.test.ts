// Chaos fixes in submit: a retry sends a job its first request left unsent, and /run's answer outlasts a store hiccup.
import { beforeEach, describe, expect, it } from 'vitest';
import { requestHash } from '../../../functions/core/canonical-json.ts';
import { UpstreamUnreachableError } from '../../../functions/core/errors.ts';
import { scopedIdempotencyKey } from '../../../functions/core/idempotency.ts';
import { submitJob } from '../../../functions/core/submit.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';

const KEY = 'order-1042-abcdef';
const request = { input: { prompt: 'a lighthouse' } };

/** A store error the SDK's retries did not hide (throttling or a brief outage). */
const storeError = () =>
  Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' });

describe('submit under store failures (chaos fixes)', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('a claim that failed to land is taken again, and a retry with the same key only replays the job', async () => {
    const apply = deps.jobs.apply.bind(deps.jobs);
    let failRunClaim = true;
    deps.jobs.apply = async (jobId, transition) => {
      const { patch } = transition;
      if (failRunClaim && patch.runAttemptedAt) {
        failRunClaim = false;
        throw storeError();
      }
      return apply(jobId, transition);
    };
    // The claim did not land (the read after it says so): the request takes it again and sends the job.
    const first = await submitJob(deps, request, KEY);
    expect(first.job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    expect(deps.upstream.count('run')).toBe(1);

    const retried = await submitJob(deps, request, KEY);
    expect(retried.created).toBe(false);
    expect(retried.job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    expect(deps.upstream.count('run')).toBe(1);
    // And a further retry only replays it.
    await submitJob(deps, request, KEY);
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('of two requests sending the same unsent job at once, exactly one calls /run', async () => {
    const { job } = await submitJob(deps, request, KEY);
    // Rewind it to "recorded, never sent", as a crash between the record and /run leaves it.
    await deps.jobs.arrange(job.jobId, {
      state: 'SUBMITTING',
      runAttemptedAt: null,
      upstreamId: null,
      submittedAt: null,
    });
    deps.upstream.calls.length = 0;
    const [a, b] = await Promise.all([submitJob(deps, request, KEY), submitJob(deps, request, KEY)]);
    expect(deps.upstream.count('run')).toBe(1);
    expect(a.job.jobId).toBe(b.job.jobId);
  });

  it('the sweeper never rejects as unsent a job whose run claim was taken after it read the job', async () => {
    const { job } = await submitJob(deps, request, KEY);
    await deps.jobs.arrange(job.jobId, { state: 'SUBMITTING', upstreamId: null });
    deps.clock.advance(deps.config.SUBMIT_STALE_MS + 1);
    // The due query answers with the record as it was before the claim.
    const queryDue = deps.jobs.queryDue.bind(deps.jobs);
    deps.jobs.queryDue = async (...args) =>
      (await queryDue(...args)).map(({ runAttemptedAt: _taken, ...stale }) => ({
        ...stale,
        dueAt: stale.dueAt,
      }));
    await deps.jobs.arrange(job.jobId, { dueAt: deps.clock.now() - 1 });

    await sweep(deps, { remainingMs: () => 600_000 });
    expect((await deps.jobs.get(job.jobId))?.state).toBe('SUBMITTING');
  });

  /** As a request that could not confirm its claim leaves a job: claim given back, input archived, never sent. */
  const leaveUnsent = async (jobId: string) => {
    await deps.jobs.arrange(jobId, {
      state: 'SUBMITTING',
      runAttemptedAt: null,
      runClaim: null,
      upstreamId: null,
      submittedAt: null,
      dueAt: deps.clock.now() + deps.config.SUBMIT_STALE_MS,
    });
    deps.upstream.calls.length = 0;
    deps.clock.advance(deps.config.SUBMIT_STALE_MS + 1);
  };

  it('a claim whose answer was lost and whose release failed is still known as its own, and sent', async () => {
    const apply = deps.jobs.apply.bind(deps.jobs);
    const get = deps.jobs.get.bind(deps.jobs);
    let readsFail = true;
    deps.jobs.get = async (jobId) => {
      if (readsFail) throw storeError();
      return get(jobId);
    };
    let claims = 0;
    deps.jobs.apply = async (jobId, transition) => {
      if (transition.name === 'claimRun' && claims++ === 0) {
        await apply(jobId, transition); // landed, its answer lost
        throw storeError();
      }
      if (transition.name === 'releaseRunClaim') {
        readsFail = false; // the store comes back for the second try
        throw storeError();
      }
      return apply(jobId, transition);
    };
    const { job } = await submitJob(deps, request, KEY);
    expect(job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    expect(deps.upstream.count('run')).toBe(1);
  }, 20_000);

  it('a job whose run claim was given back unsent, after a retry was told 202, is sent by the sweeper', async () => {
    const { job } = await submitJob(deps, request, KEY);
    await leaveUnsent(job.jobId);
    const put = deps.archive.putJson.bind(deps.archive);
    const written: string[] = [];
    deps.archive.putJson = async (key, ...rest) => {
      written.push(key);
      return put(key, ...rest);
    };

    const summary = await sweep(deps, { remainingMs: () => 600_000 });
    expect(summary).toMatchObject({ sent: 1, rejected: 0 });
    // It sends the archived input as read back, without writing it again.
    expect(written).toEqual([]);
    expect(deps.upstream.count('run')).toBe(1);
    const [call] = deps.upstream.calls;
    expect((call?.args[1] as { input: unknown } | undefined)?.input).toEqual(request.input);
    expect(await deps.jobs.get(job.jobId)).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    const sweeperLines = (await deps.jobs.listEvents(job.jobId)).filter((e) => e.source === 'sweeper');
    expect(sweeperLines.map((e) => [e.type, e.actor])).toEqual([
      ['input.archived', undefined],
      ['submitted', undefined],
    ]);
    // The client's retry with the same key gets that job; nothing is sent twice.
    const retried = await submitJob(deps, request, KEY);
    expect(retried.job.jobId).toBe(job.jobId);
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('a job without an Idempotency-Key left unsent is rejected, not sent: its client was told it failed', async () => {
    const { job } = await submitJob(deps, request);
    await leaveUnsent(job.jobId);
    const summary = await sweep(deps, { remainingMs: () => 600_000 });
    expect(summary).toMatchObject({ sent: 0, rejected: 1 });
    expect(deps.upstream.count('run')).toBe(0);
    expect((await deps.jobs.get(job.jobId))?.reason).toMatch(/^SUBMIT_NOT_SENT/);
  });

  it('records a certain refusal through a store hiccup, so the job is REJECTED and its key free', async () => {
    deps.upstream.runImpl = async () => {
      throw new UpstreamUnreachableError('run', 'ECONNREFUSED');
    };
    const apply = deps.jobs.apply.bind(deps.jobs);
    let failures = 2;
    deps.jobs.apply = async (jobId, transition) => {
      const { patch } = transition;
      if (patch.state === 'REJECTED' && failures-- > 0) throw storeError();
      return apply(jobId, transition);
    };
    await expect(submitJob(deps, request, KEY)).rejects.toThrow(UpstreamUnreachableError);
    const [job] = deps.jobs.jobs.values();
    expect(job).toMatchObject({ state: 'REJECTED' });
    expect(deps.jobs.idempotency.has(KEY)).toBe(false);
  });

  it('keeps the upstream id /run answered with through a store hiccup', async () => {
    const link = deps.jobs.linkUpstream.bind(deps.jobs);
    let failures = 2;
    deps.jobs.linkUpstream = async (...args) => {
      if (failures-- > 0) throw storeError();
      return link(...args);
    };
    const { job } = await submitJob(deps, request, KEY);
    expect(job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    expect(await deps.jobs.findByUpstream('default', 'up-1')).toBe(job.jobId);
  });

  it('when the id cannot be recorded at all, counts an ambiguous submit and logs the id for reconcile', async () => {
    deps.jobs.linkUpstream = async () => {
      throw storeError();
    };
    await expect(submitJob(deps, request, KEY)).rejects.toThrow('Throughput');
    expect(deps.metrics.get('AmbiguousSubmits')).toBe(1);
    const line = deps.logger.lines.find((l) => l.level === 'error');
    expect(line?.fields).toMatchObject({ upstreamId: 'up-1' });
  }, 10_000);
});

describe('a retried submit that resumes a record whose first request stopped before auditing it', () => {
  it('starts the trail with created before sending the job', async () => {
    const deps = testDeps();
    // As the store holds it: scoped to its caller (here none).
    const stored = scopedIdempotencyKey('key-resume-0001', undefined);
    const first = await deps.jobs.claimIdempotencyKey({
      key: stored,
      requestHash: 'h',
      jobId: '01JDXKQ5N8Y3V7M2R6T4W9Z0AA',
      nowMs: deps.clock.now(),
      expiresAtMs: deps.clock.now() + 3_600_000,
    });
    expect(first.claimed).toBe(true);
    // The first request's record landed, but it stopped before writing `created` (its process died).
    await deps.jobs.create({
      jobId: '01JDXKQ5N8Y3V7M2R6T4W9Z0AA',
      endpoint: 'default',
      state: 'SUBMITTING',
      origin: 'submitted',
      createdAt: new Date(deps.clock.now()).toISOString(),
      idempotencyKey: 'key-resume-0001',
    });
    deps.jobs.idempotency.set(stored, {
      jobId: '01JDXKQ5N8Y3V7M2R6T4W9Z0AA',
      requestHash: requestHash({ input: { p: 1 }, endpoint: 'default' }),
      expiresAtMs: deps.clock.now() + 3_600_000,
    });
    const { job, created } = await submitJob(deps, { input: { p: 1 } }, 'key-resume-0001');
    expect({ jobId: job.jobId, created }).toEqual({ jobId: '01JDXKQ5N8Y3V7M2R6T4W9Z0AA', created: false });
    expect(job.state).toBe('PENDING');
    expect(deps.jobs.eventTypes(job.jobId)[0]).toBe('created');
  });

  it('writes that created line once when several retries resume the record at the same moment', async () => {
    const deps = testDeps();
    const jobId = '01JDXKQ5N8Y3V7M2R6T4W9Z0AB';
    const key = 'key-resume-0002';
    const stored = scopedIdempotencyKey(key, undefined);
    await deps.jobs.claimIdempotencyKey({
      key: stored,
      requestHash: 'h',
      jobId,
      nowMs: deps.clock.now(),
      expiresAtMs: deps.clock.now() + 3_600_000,
    });
    await deps.jobs.create({
      jobId,
      endpoint: 'default',
      state: 'SUBMITTING',
      origin: 'submitted',
      createdAt: new Date(deps.clock.now()).toISOString(),
      idempotencyKey: key,
    });
    deps.jobs.idempotency.set(stored, {
      jobId,
      requestHash: requestHash({ input: { p: 2 }, endpoint: 'default' }),
      expiresAtMs: deps.clock.now() + 3_600_000,
    });
    const answers = await Promise.all([1, 2, 3].map(() => submitJob(deps, { input: { p: 2 } }, key)));
    expect(answers.map((a) => a.job.jobId)).toEqual([jobId, jobId, jobId]);
    expect(deps.upstream.count('run')).toBe(1);
    expect(deps.jobs.eventTypes(jobId).filter((type) => type === 'created')).toEqual(['created']);
  });
});
