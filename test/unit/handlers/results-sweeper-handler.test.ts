import { readFileSync } from 'node:fs';
import type { ScheduledEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as results } from '../../../functions/results/handler.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler as sweeper } from '../../../functions/sweeper/handler.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

describe('results handler', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    setRuntime(deps);
  });
  afterEach(() => setRuntime(undefined));

  it('serves a job with its links', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    const res = parseResult(
      await results(
        httpEvent({
          routeKey: 'GET /jobs/{jobId}',
          path: `/jobs/${job.jobId}`,
          pathParameters: { jobId: job.jobId },
        }),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.json?.job.jobId).toBe(job.jobId);
    expect(res.json?.links.input).toContain(job.inputKey);
  });

  it.each([
    ['an unknown job id', '01JDXKQ5N8Y3V7M2R6T4W9Z0ZZ', 404, 'JOB_NOT_FOUND'],
    ['a malformed job id', 'nope', 400, 'INVALID_REQUEST'],
  ])('answers %s with a clear error', async (_, id, status, code) => {
    const res = parseResult(
      await results(
        httpEvent({ routeKey: 'GET /jobs/{jobId}', path: `/jobs/${id}`, pathParameters: { jobId: id } }),
      ),
    );
    expect(res.status).toBe(status);
    expect(res.json?.error.code).toBe(code);
  });

  it.each([
    ['an invalid cursor', { cursor: 'bm90LWEtY3Vyc29y' }, 'INVALID_CURSOR'],
    ['an invalid limit', { limit: '1000' }, 'INVALID_REQUEST'],
    ['an unknown state', { state: 'DONE' }, 'INVALID_REQUEST'],
    ['an unknown parameter', { colour: 'blue' }, 'INVALID_REQUEST'],
  ])('answers a listing with %s with 400', async (_, query, code) => {
    deps.jobs.list = async (q) => {
      const { decodeCursor } = await import('../../../functions/adapters/list-cursor.ts');
      if (q.cursor) decodeCursor(q, q.cursor);
      return { jobs: [] };
    };
    const res = parseResult(await results(httpEvent({ routeKey: 'GET /jobs', path: '/jobs', query })));
    expect(res.status).toBe(400);
    expect(res.json?.error.code).toBe(code);
  });

  it('answers health', async () => {
    const res = parseResult(await results(httpEvent({ routeKey: 'GET /health', path: '/health' })));
    expect(res.json?.status).toBe('ok');
  });
});

describe('sweeper handler', () => {
  afterEach(() => setRuntime(undefined));

  it('sweeps on the scheduled event and returns its summary, ending when nothing more comes due', async () => {
    const deps = testDeps();
    setRuntime(deps);
    const job = pendingJob({ dueAt: Date.now() - 1000 });
    await deps.jobs.create(job);
    deps.clock.ms = Date.now();
    deps.upstream.statuses.set(job.upstreamId ?? '', {
      id: job.upstreamId ?? '',
      status: 'COMPLETED',
      output: 'ok',
    });
    const event = JSON.parse(readFileSync('test/fixtures/events/scheduled.json', 'utf8')) as ScheduledEvent;
    const summary = await sweeper(event, { getRemainingTimeInMillis: () => 290_000 });
    expect(summary).toMatchObject({ passes: 1, archived: 1, last: { polled: 1, archived: 1 } });
  });
});
