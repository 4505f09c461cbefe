// Clients are told how to retry: every 429 the API answers (submit and reconcile) carries Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamRateLimitedError } from '../../../functions/core/errors.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler } from '../../../functions/submit/handler.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

describe('429 answers carry Retry-After', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    setRuntime(deps);
  });
  afterEach(() => setRuntime(undefined));

  it('on reconcile, rounded up to whole seconds, and the job is left as it was', async () => {
    const job = pendingJob({ dueAt: deps.clock.now() + 60_000 });
    await deps.jobs.create(job);
    deps.upstream.statusImpl = async () => {
      throw new UpstreamRateLimitedError('status', 4200);
    };
    const res = parseResult(
      await handler(
        httpEvent({
          routeKey: 'POST /jobs/{jobId}/reconcile',
          path: `/jobs/${job.jobId}/reconcile`,
          pathParameters: { jobId: job.jobId },
        }),
      ),
    );
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json?.error.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(await deps.jobs.get(job.jobId)).toEqual(job);
  });

  it('never less than one second, so a client never retries at once', async () => {
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 0);
    };
    const res = parseResult(
      await handler(httpEvent({ routeKey: 'POST /jobs', path: '/jobs', body: '{"input":{"prompt":"x"}}' })),
    );
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
  });
});
