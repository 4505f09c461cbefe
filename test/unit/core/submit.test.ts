import { beforeEach, describe, expect, it } from 'vitest';
import {
  IdempotencyConflictError,
  UnknownEndpointError,
  UpstreamRateLimitedError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../../functions/core/errors.ts';
import { submitJob } from '../../../functions/core/submit.ts';
import { verifyWebhookToken } from '../../../functions/core/webhook-token.ts';
import type { RunRequest } from '../../../functions/schemas/upstream.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';

describe('submitJob', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('records the job, archives the input, then calls /run with a per-job authenticated callback', async () => {
    const { job, created } = await submitJob(deps, {
      input: { prompt: 'a lighthouse' },
      metadata: { team: 'vision' },
    });

    expect(created).toBe(true);
    expect(job).toMatchObject({
      state: 'PENDING',
      upstreamId: 'up-1',
      upstreamStatus: 'IN_QUEUE',
      endpoint: 'default',
    });
    expect(job.metadata).toEqual({ team: 'vision' });
    expect(deps.archive.json(job.inputKey ?? '')).toEqual({ prompt: 'a lighthouse' });
    const [call] = deps.upstream.calls;
    const body = call?.args[1] as RunRequest;
    expect(body.input).toEqual({ prompt: 'a lighthouse' });
    const url = new URL(body.webhook ?? '');
    const [, route, jobId, token] = url.pathname.split('/');
    expect(url.origin).toBe('https://archiver.example.com');
    expect(route).toBe('webhooks');
    expect(jobId).toBe(job.jobId);
    expect(verifyWebhookToken(WEBHOOK_SECRET, job.jobId, token ?? '')).toBe(true);
    expect(job.dueAt).toBe(Date.parse(job.runAttemptedAt ?? '') + deps.config.firstLookMs);
    expect(await deps.jobs.findByUpstream('default', 'up-1')).toBe(job.jobId);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['created', 'input.archived', 'submitted']);
  });

  it('passes the policy through and uses the named endpoint', async () => {
    await submitJob(deps, {
      endpoint: 'sdxl',
      input: { p: 1 },
      policy: { executionTimeout: 60_000, ttl: 600_000 },
    });
    const [call] = deps.upstream.calls;
    expect(call?.args[0]).toBe('sdxl');
    expect((call?.args[1] as RunRequest | undefined)?.policy).toEqual({
      executionTimeout: 60_000,
      ttl: 600_000,
    });
  });

  it('refuses an unknown endpoint before writing anything', async () => {
    await expect(submitJob(deps, { endpoint: 'nope', input: {} })).rejects.toThrow(UnknownEndpointError);
    expect(deps.jobs.jobs.size).toBe(0);
    expect(deps.archive.puts).toBe(0);
  });

  describe('with an Idempotency-Key', () => {
    it('returns the same job for a retried request and never starts a second upstream job', async () => {
      const first = await submitJob(deps, { input: { prompt: 'x' } }, 'key-00000001');
      const again = await submitJob(deps, { input: { prompt: 'x' } }, 'key-00000001');
      expect(again).toEqual({ job: first.job, created: false });
      expect(deps.upstream.count('run')).toBe(1);
    });

    it('treats the same request with fields in another order as the same request', async () => {
      await submitJob(deps, { input: { a: 1, b: 2 }, metadata: { x: '1' } }, 'key-00000002');
      const again = await submitJob(deps, { metadata: { x: '1' }, input: { b: 2, a: 1 } }, 'key-00000002');
      expect(again.created).toBe(false);
    });

    it('refuses the key with a different request', async () => {
      await submitJob(deps, { input: { prompt: 'x' } }, 'key-00000003');
      await expect(submitJob(deps, { input: { prompt: 'y' } }, 'key-00000003')).rejects.toThrow(
        IdempotencyConflictError,
      );
      expect(deps.upstream.count('run')).toBe(1);
    });

    it('gives concurrent duplicates one upstream job', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => submitJob(deps, { input: { prompt: 'same' } }, 'key-00000004')),
      );
      expect(new Set(results.map((r) => r.job.jobId)).size).toBe(1);
      expect(deps.upstream.count('run')).toBe(1);
    });

    it('frees the key when the upstream certainly refused, so a retry really retries', async () => {
      deps.upstream.runImpl = async () => {
        throw new UpstreamRateLimitedError('run', 3000);
      };
      await expect(submitJob(deps, { input: {} }, 'key-00000005')).rejects.toThrow(UpstreamRateLimitedError);
      deps.upstream.runImpl = async () => ({ id: 'up-2', status: 'IN_QUEUE' });
      const retry = await submitJob(deps, { input: {} }, 'key-00000005');
      expect(retry.job).toMatchObject({ state: 'PENDING', upstreamId: 'up-2' });
      expect(deps.upstream.count('run')).toBe(2);
    });

    it('keeps the key after an ambiguous failure, so a retry cannot start a second GPU job', async () => {
      deps.upstream.runImpl = async () => {
        throw new UpstreamTimeoutError('run', 10_000);
      };
      await expect(submitJob(deps, { input: {} }, 'key-00000006')).rejects.toThrow(UpstreamTimeoutError);
      const retry = await submitJob(deps, { input: {} }, 'key-00000006');
      expect(retry.created).toBe(false);
      expect(retry.job).toMatchObject({ state: 'SUBMITTING', submitAmbiguous: true });
      expect(deps.upstream.count('run')).toBe(1);
    });
  });

  it.each([
    ['429', new UpstreamRateLimitedError('run', 2000)],
    ['4xx', new UpstreamRefusedError('run', 400, '{"error":"bad input"}')],
    ['connection refused', new UpstreamUnreachableError('run', 'ECONNREFUSED')],
  ])('marks the job REJECTED with the reason when the upstream certainly refused (%s)', async (_, error) => {
    deps.upstream.runImpl = async () => {
      throw error;
    };
    await expect(submitJob(deps, { input: {} })).rejects.toBe(error);
    const [job] = deps.jobs.jobs.values();
    expect(job).toMatchObject({ state: 'REJECTED' });
    expect(job?.reason).toContain(error.code);
    expect(job?.dueAt).toBeUndefined();
    expect(deps.events.published.map((e) => e.type)).toEqual(['Job Rejected']);
  });

  it('records a 5xx on /run as ambiguous and leaves the job for the sweeper to settle', async () => {
    deps.upstream.runImpl = async () => {
      throw new UpstreamServerError('run', 502);
    };
    await expect(submitJob(deps, { input: {} })).rejects.toThrow(UpstreamServerError);
    const [job] = deps.jobs.jobs.values();
    expect(job).toMatchObject({ state: 'SUBMITTING', submitAmbiguous: true });
    expect(job?.dueAt).toBeDefined();
    expect(deps.metrics.get('AmbiguousSubmits')).toBe(1);
    const error = await submitJob(deps, { input: {} }).catch((e: UpstreamServerError) => e);
    expect((error as UpstreamServerError).details?.jobId).toEqual(expect.any(String));
  });

  it('keeps what an early webhook archived when /run answers late', async () => {
    deps.upstream.runImpl = async () => {
      const [job] = deps.jobs.jobs.values();
      if (job) job.state = 'ARCHIVED'; // the webhook won the race while /run's answer was in flight
      return { id: 'up-1', status: 'IN_QUEUE' };
    };
    const { job } = await submitJob(deps, { input: {} });
    expect(job.state).toBe('ARCHIVED');
  });

  it('with sync:true captures the runsync result at once', async () => {
    const status = {
      id: 'sync-1',
      status: 'COMPLETED',
      output: { text: 'hi' },
      delayTime: 5,
      executionTime: 9,
    };
    deps.upstream.runSyncImpl = async () => ({ status, raw: Buffer.from(JSON.stringify(status)) });
    const { job } = await submitJob(deps, { input: { prompt: 'hi' }, sync: true });
    expect(job).toMatchObject({ state: 'ARCHIVED', captureSource: 'runsync', upstreamId: 'sync-1' });
    expect(deps.upstream.count('run')).toBe(0);
  });

  it('with sync:true answers with the archived job when the webhook of the same result captures first', async () => {
    const status = { id: 'sync-3', status: 'COMPLETED', output: { text: 'raced' } };
    deps.upstream.runSyncImpl = async (_endpoint, request) => {
      // The upstream's webhook arrives before the runsync answer and takes the capture lease.
      const jobId = new URL(request.webhook ?? '').pathname.split('/')[2] ?? '';
      await deps.jobs.claimCapture(jobId, 'webhook-capture', deps.clock.now(), 120_000);
      setTimeout(() => {
        void deps.jobs.archive(
          jobId,
          'webhook-capture',
          { captureSource: 'webhook', upstreamStatus: 'COMPLETED' },
          deps.clock.now(),
        );
      }, 150);
      return { status, raw: Buffer.from(JSON.stringify(status)) };
    };
    const { job } = await submitJob(deps, { input: {}, sync: true });
    expect(job).toMatchObject({ state: 'ARCHIVED', captureSource: 'webhook', upstreamId: 'sync-3' });
    expect(deps.jobs.eventTypes(job.jobId)).toContain('capture.concurrent');
  });

  /**
   * runsync answers `status` after the job's webhook took the capture lease (as `owner`, for `leaseMs`);
   * `meanwhile` runs a moment later, while the answer waits on that capture.
   */
  const racedByWebhook = (
    status: { id: string; status: string; output?: unknown },
    meanwhile: (jobId: string) => void,
    { owner = 'dead-webhook', leaseMs = deps.config.SYNC_CAPTURE_LEASE_MS } = {},
  ) => {
    deps.upstream.runSyncImpl = async (_endpoint, request) => {
      const jobId = new URL(request.webhook ?? '').pathname.split('/')[2] ?? '';
      await deps.jobs.claimCapture(jobId, owner, deps.clock.now(), leaseMs);
      setTimeout(() => meanwhile(jobId), 150);
      return { status, raw: Buffer.from(JSON.stringify(status)) };
    };
  };

  it('with sync:true keeps its result when the webhook capture holding the job dies, and archives it itself', async () => {
    // The webhook's process dies: nothing archives, the lease runs out.
    racedByWebhook({ id: 'sync-4', status: 'COMPLETED', output: { text: 'kept' } }, () =>
      deps.clock.advance(deps.config.SYNC_CAPTURE_LEASE_MS + 1),
    );
    const { job } = await submitJob(deps, { input: {}, sync: true });
    expect(job).toMatchObject({ state: 'ARCHIVED', captureSource: 'runsync', upstreamId: 'sync-4' });
    expect(deps.archive.json(job.resultKey ?? '')).toMatchObject({ status: { output: { text: 'kept' } } });
  });

  it('with sync:true archives its result in hand even after the sweeper expired the job meanwhile', async () => {
    // The webhook's capture dies; the sweeper finds the upstream forgot the job and expires it.
    racedByWebhook({ id: 'sync-6', status: 'COMPLETED', output: { text: 'late' } }, (jobId) => {
      deps.clock.advance(deps.config.SYNC_CAPTURE_LEASE_MS + 1);
      void deps.jobs.arrange(jobId, { state: 'EXPIRED', leaseOwner: null, leaseUntil: null });
    });
    const { job } = await submitJob(deps, { input: {}, sync: true });
    expect(job).toMatchObject({ state: 'ARCHIVED', captureSource: 'runsync', upstreamId: 'sync-6' });
  });

  it('with sync:true answers PENDING when another capture still holds the job at the end of its time', async () => {
    racedByWebhook(
      { id: 'sync-5', status: 'COMPLETED', output: {} },
      () => deps.clock.advance(deps.config.RUNSYNC_WAIT_MS + 60_000),
      { owner: 'slow-webhook', leaseMs: 3_600_000 },
    );
    const { job } = await submitJob(deps, { input: {}, sync: true });
    expect(job).toMatchObject({ state: 'PENDING', upstreamId: 'sync-5', leaseOwner: 'slow-webhook' });
  });

  it('with sync:true goes on as an async job when runsync is not done in time', async () => {
    const status = { id: 'sync-2', status: 'IN_PROGRESS' };
    deps.upstream.runSyncImpl = async () => ({ status, raw: Buffer.from(JSON.stringify(status)) });
    const { job } = await submitJob(deps, { input: {}, sync: true });
    expect(job).toMatchObject({ state: 'PENDING', upstreamId: 'sync-2', upstreamStatus: 'IN_PROGRESS' });
  });
});
