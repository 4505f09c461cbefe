import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler } from '../../../functions/submit/handler.ts';
import { fixtureEvent, httpEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';

describe('submit handler', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    setRuntime(deps);
  });
  afterEach(() => setRuntime(undefined));

  const post = (body: string | Buffer, headers: Record<string, string> = {}, base64 = false) =>
    handler(httpEvent({ routeKey: 'POST /jobs', path: '/jobs', body, headers, base64 })).then(parseResult);

  const nothingWritten = () => {
    expect(deps.jobs.jobs.size).toBe(0);
    expect(deps.archive.puts).toBe(0);
    expect(deps.upstream.calls).toEqual([]);
  };

  it('accepts the recorded API Gateway event and answers 202 with the job', async () => {
    const res = parseResult(await handler(fixtureEvent('post-jobs')));
    expect(res.status).toBe(202);
    expect(res.json?.job).toMatchObject({ state: 'PENDING', upstreamId: 'up-1' });
    expect(res.headers.location).toBe(`/jobs/${res.json?.job.jobId}`);
  });

  it('reads base64-encoded bodies', async () => {
    const res = await post(JSON.stringify({ input: { p: 1 } }), {}, true);
    expect(res.status).toBe(202);
  });

  it('replays an Idempotency-Key with the first job and says so', async () => {
    const first = await post('{"input":{"p":1}}', { 'idempotency-key': 'order-12345' });
    const again = await post('{"input":{"p":1}}', { 'Idempotency-Key': 'order-12345' });
    expect(again.json?.job.jobId).toBe(first.json?.job.jobId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(deps.upstream.count('run')).toBe(1);
  });

  it.each([
    ['malformed JSON', '{"input":', 400, 'INVALID_JSON'],
    ['an empty body', '', 400, 'INVALID_JSON'],
    ['input that is not an object', '{"input":[1,2]}', 400, 'INVALID_REQUEST'],
    ['input missing', '{"metadata":{}}', 400, 'INVALID_REQUEST'],
    ['wrong types', '{"input":{},"sync":"yes"}', 400, 'INVALID_REQUEST'],
    ['unknown fields', '{"input":{},"webhook":"https://evil"}', 400, 'INVALID_REQUEST'],
    ['a policy out of range', '{"input":{},"policy":{"ttl":5}}', 400, 'INVALID_REQUEST'],
    ['an unknown endpoint', '{"endpoint":"nope","input":{}}', 400, 'UNKNOWN_ENDPOINT'],
  ])('answers %s with a clear 4xx and writes nothing', async (_, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.json?.error.code).toBe(code);
    expect(res.json?.error.message).toEqual(expect.any(String));
    nothingWritten();
  });

  it('lists every validation problem in the details', async () => {
    const res = await post('{"input":"x","sync":1}');
    expect(res.json?.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'input',
      'sync',
    ]);
  });

  it('refuses invalid UTF-8', async () => {
    const res = await post(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), {}, true);
    expect(res.json?.error).toMatchObject({
      code: 'INVALID_JSON',
      message: 'Request body is not valid UTF-8',
    });
    nothingWritten();
  });

  it('refuses a body over the upstream 10 MB limit with 413', async () => {
    const big = JSON.stringify({ input: { blob: 'x'.repeat(10 * 1024 * 1024) } });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(res.json?.error.code).toBe('PAYLOAD_TOO_LARGE');
    nothingWritten();
  });

  it('refuses a non-JSON content type with 415', async () => {
    const res = await post('{"input":{}}', { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    nothingWritten();
  });

  it('refuses an invalid Idempotency-Key', async () => {
    const res = await post('{"input":{}}', { 'idempotency-key': 'no spaces allowed' });
    expect(res.status).toBe(400);
    expect(res.json?.error.message).toContain('Idempotency-Key');
    nothingWritten();
  });

  it('maps an upstream 429 to our 429 with Retry-After', async () => {
    const { UpstreamRateLimitedError } = await import('../../../functions/core/errors.ts');
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 2500);
    };
    const res = await post('{"input":{}}');
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    expect(res.json?.error.code).toBe('UPSTREAM_RATE_LIMITED');
  });

  it('cancels a job through its route and 404s an unknown one', async () => {
    const unknown = await handler(
      httpEvent({
        routeKey: 'POST /jobs/{jobId}/cancel',
        path: '/jobs/01JDXKQ5N8Y3V7M2R6T4W9Z0ZZ/cancel',
        pathParameters: { jobId: '01JDXKQ5N8Y3V7M2R6T4W9Z0ZZ' },
      }),
    ).then(parseResult);
    expect(unknown.status).toBe(404);
    expect(unknown.json?.error.code).toBe('JOB_NOT_FOUND');
  });

  it('tracks an upstream job and refuses a malformed upstream id', async () => {
    deps.upstream.statuses.set('ext-1', { id: 'ext-1', status: 'IN_QUEUE' });
    const ok = await handler(
      httpEvent({ routeKey: 'POST /jobs/track', path: '/jobs/track', body: '{"upstreamId":"ext-1"}' }),
    ).then(parseResult);
    expect(ok.status).toBe(201);
    const bad = await handler(
      httpEvent({ routeKey: 'POST /jobs/track', path: '/jobs/track', body: '{"upstreamId":"../../etc"}' }),
    ).then(parseResult);
    expect(bad.status).toBe(400);
  });

  it('routes by path when invoked through a $default route or a Function URL', async () => {
    const res = await handler(
      httpEvent({ routeKey: '$default', method: 'POST', path: '/jobs', body: '{"input":{}}' }),
    ).then(parseResult);
    expect(res.status).toBe(202);
  });
});
