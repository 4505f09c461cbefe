// Property tests of the HTTP handlers: hostile bodies, headers, paths and queries get a 4xx JSON error and change nothing.
import fc from 'fast-check';
import { ulid } from 'ulid';
import { afterEach, describe, expect, it } from 'vitest';
import { handler as resultsHandler } from '../../../functions/results/handler.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { submitRequestSchema, trackRequestSchema } from '../../../functions/schemas/api.ts';
import { handler as submitHandler } from '../../../functions/submit/handler.ts';
import { handler as webhookHandler } from '../../../functions/webhook/handler.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

type Parsed = ReturnType<typeof parseResult>;

function fresh(): TestDeps {
  const deps = testDeps();
  setRuntime(deps);
  return deps;
}

afterEach(() => setRuntime(undefined));

/** Property runs and megabyte bodies take seconds when the whole suite shares the machine. */
const SLOW = { timeout: 60_000 };

/** A 4xx whose body is exactly `{error:{code,message,details}}`. */
function expectClientError(res: Parsed, status?: number) {
  if (status !== undefined) expect(res.status).toBe(status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json).toEqual({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) },
  });
  expect(Object.keys(res.json?.error ?? {}).sort()).toEqual(['code', 'details', 'message']);
}

/** No job, event, link, idempotency record, archive object or upstream call. */
function expectNothingWritten(deps: TestDeps) {
  expect(deps.jobs.jobs.size).toBe(0);
  expect(deps.jobs.events).toEqual([]);
  expect(deps.jobs.links.size).toBe(0);
  expect(deps.jobs.idempotency.size).toBe(0);
  expect(deps.archive.puts).toBe(0);
  expect(deps.upstream.calls).toEqual([]);
}

const postJobs = (body: string | Buffer, headers: Record<string, string> = {}, base64 = false) =>
  submitHandler(
    httpEvent({
      routeKey: 'POST /jobs',
      path: '/jobs',
      body,
      base64,
      headers: { 'content-type': 'application/json', ...headers },
    }),
  ).then(parseResult);

const postTrack = (body: string | Buffer, base64 = false) =>
  submitHandler(
    httpEvent({
      routeKey: 'POST /jobs/track',
      path: '/jobs/track',
      body,
      base64,
      headers: { 'content-type': 'application/json' },
    }),
  ).then(parseResult);

/** JSON-ish texts: real JSON, near-miss request objects, and plain garbage. */
const bodyText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc
    .dictionary(
      fc.oneof(fc.constantFrom('endpoint', 'input', 'policy', 'metadata', 'sync', 'upstreamId'), fc.string()),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 6 },
    )
    .map((o) => JSON.stringify(o)),
  fc.string({ unit: 'binary' }),
);

describe('POST /jobs and POST /jobs/track under arbitrary bodies', SLOW, () => {
  it('arbitrary bytes: a 4xx JSON error and nothing written, unless the bytes are a valid request', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const deps = fresh();
        const res = await postJobs(Buffer.from(bytes), {}, true);
        if ((res.status ?? 0) < 400) return;
        expectClientError(res);
        expectNothingWritten(deps);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary JSON and text: invalid requests get a 4xx and change nothing; valid ones are accepted', async () => {
    await fc.assert(
      fc.asyncProperty(bodyText, async (text) => {
        const deps = fresh();
        const res = await postJobs(text);
        let valid = false;
        try {
          valid = submitRequestSchema.safeParse(JSON.parse(text)).success;
        } catch {
          valid = false;
        }
        if (!valid) {
          expectClientError(res);
          expectNothingWritten(deps);
        } else expect([202, 400]).toContain(res.status); // 400 only for an endpoint that is not configured
      }),
      { numRuns: 400 },
    );
  });

  it('track: arbitrary JSON and bytes get a 4xx and nothing written unless valid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          bodyText.map((t) => Buffer.from(t)),
          fc.uint8Array().map(Buffer.from),
        ),
        async (bytes) => {
          const deps = fresh();
          const res = await postTrack(bytes, true);
          let valid = false;
          try {
            valid = trackRequestSchema.safeParse(JSON.parse(bytes.toString('utf8'))).success;
          } catch {
            valid = false;
          }
          // A valid track of an unknown upstream job is a 404 that writes nothing either.
          expectClientError(res);
          if (!valid) expectNothingWritten(deps);
          expect(deps.jobs.jobs.size).toBe(0);
          expect(deps.archive.puts).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a content type other than JSON is a 415, whatever the body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(
            'text/plain',
            'text/json',
            'application/jsonx',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=xyz',
            'image/png',
            'application/xml',
            'json',
          ),
          fc.string({ maxLength: 300 }).filter((t) => t.trim() !== '' && !/json/i.test(t)),
        ),
        async (contentType) => {
          const deps = fresh();
          const res = await postJobs('{"input":{"prompt":"x"}}', { 'content-type': contentType });
          expectClientError(res, 415);
          expect(res.json?.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
          expect(res.json?.error.message.length).toBeLessThan(200);
          expectNothingWritten(deps);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a lone continuation byte', Buffer.from([0x7b, 0x22, 0x69, 0x22, 0x3a, 0x80, 0x7d])],
    [
      'an overlong slash',
      Buffer.concat([Buffer.from('{"input":{"p":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]),
    ],
    [
      'a UTF-16 surrogate',
      Buffer.concat([Buffer.from('{"input":{"p":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}}')]),
    ],
    [
      'a truncated sequence',
      Buffer.concat([Buffer.from('{"input":{"p":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}}')]),
    ],
    ['latin-1 text', Buffer.from('{"input":{"p":"caf\xe9"}}', 'latin1')],
    ['a UTF-16 body', Buffer.from('{"input":{}}', 'utf16le')],
  ])('invalid UTF-8 (%s) is a 400 INVALID_JSON', async (_, bytes) => {
    const deps = fresh();
    const res = await postJobs(bytes, {}, true);
    expectClientError(res, 400);
    expect(res.json?.error.code).toBe('INVALID_JSON');
    expectNothingWritten(deps);
  });

  it('invalid UTF-8 anywhere in an otherwise valid body is always refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 50 }),
        fc.constantFrom(
          [0xff],
          [0xfe],
          [0xc3],
          [0xe0, 0x80],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
          [0xed, 0xbf, 0xbf],
        ),
        async (prompt, bad) => {
          const deps = fresh();
          const good = Buffer.from(JSON.stringify({ input: { prompt } }));
          const at = good.length - 3;
          const body = Buffer.concat([good.subarray(0, at), Buffer.from(bad), good.subarray(at)]);
          const res = await postJobs(body, {}, true);
          expectClientError(res, 400);
          expectNothingWritten(deps);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('POST /jobs with extreme shapes', SLOW, () => {
  const nested = (open: string, close: string, depth: number, inner = '1') =>
    `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

  it.each([
    ['100,000 nested arrays inside input', `{"input":{"a":${nested('[', ']', 100_000)}}}`],
    ['100,000 nested objects inside input', `{"input":${nested('{"a":', '}', 100_000)}}`],
    ['100,000 nested arrays as the body', nested('[', ']', 100_000, '')],
    ['nesting one level past the limit', `{"input":{"a":${nested('[', ']', 128)}}}`],
  ])('%s is a 400, not a 500 (JSON.stringify would overflow the stack)', async (_, body) => {
    const deps = fresh();
    const res = await postJobs(body);
    expectClientError(res, 400);
    expect(res.json?.error.code).toBe('INVALID_REQUEST');
    expectNothingWritten(deps);
  });

  it('nesting within the limit is accepted and archived', async () => {
    const deps = fresh();
    const res = await postJobs(`{"input":{"a":${nested('[', ']', 120)}}}`);
    expect(res.status).toBe(202);
    expect(deps.archive.puts).toBe(1);
  });

  it('a 3.5 MB string inside input is accepted; the same string where it is not allowed is a short 400', async () => {
    // Just under MAX_SUBMIT_BYTES (4 MiB: a Lambda event must carry the body within 6 MB).
    const huge = 'x'.repeat(3.5 * 1024 * 1024);
    let deps = fresh();
    const ok = await postJobs(JSON.stringify({ input: { prompt: huge } }));
    expect(ok.status).toBe(202);
    expect(deps.upstream.count('run')).toBe(1);

    for (const body of [
      { input: {}, metadata: { note: huge } },
      { input: {}, metadata: { [huge.slice(0, 3_000_000)]: 'v' } },
      { input: {}, [huge]: 1 },
      { input: huge },
      { endpoint: huge, input: {} },
    ]) {
      deps = fresh();
      const res = await postJobs(JSON.stringify(body));
      expectClientError(res, 400);
      expect(res.json?.error.message.length).toBeLessThan(400);
      expect(JSON.stringify(res.json).length).toBeLessThan(10_000);
      expectNothingWritten(deps);
    }
  });

  it('huge arrays and key counts are answered with a short 400', async () => {
    const manyKeys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    for (const body of [
      { input: Array.from({ length: 1_000_000 }, () => 0) },
      { input: {}, metadata: manyKeys },
      { input: {}, ...manyKeys },
      Array.from({ length: 1_000_000 }, () => ({})),
    ]) {
      const deps = fresh();
      const res = await postJobs(JSON.stringify(body));
      expectClientError(res, 400);
      expect(JSON.stringify(res.json).length).toBeLessThan(10_000);
      expectNothingWritten(deps);
    }
  });

  it('a body over MAX_SUBMIT_BYTES is a 413 before it is parsed', async () => {
    const deps = fresh();
    const res = await postJobs(`{"input":{"p":"${'x'.repeat(10 * 1024 * 1024)}"}}`);
    expectClientError(res, 413);
    expect(res.json?.error.code).toBe('PAYLOAD_TOO_LARGE');
    expectNothingWritten(deps);
  });

  it('an arbitrary Idempotency-Key header is either accepted or a 400 that changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (key) => {
        const deps = fresh();
        const res = await postJobs('{"input":{}}', { 'idempotency-key': key });
        if (/^[A-Za-z0-9_.:-]{8,128}$/.test(key)) expect(res.status).toBe(202);
        else {
          expectClientError(res, 400);
          expectNothingWritten(deps);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('read routes, cancel and webhook under arbitrary paths and queries', SLOW, () => {
  const pathText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%00', '..%2F..', '%F0%9F%98', '01JDXKQ5N8Y3V7M2R6T4W9Z0AB%'),
  );

  it('GET /jobs with any query is a 200 or a 4xx JSON error, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.oneof(fc.constantFrom('from', 'to', 'state', 'endpoint', 'tag', 'limit', 'cursor'), fc.string()),
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
        ),
        async (query) => {
          fresh();
          const res = parseResult(
            await resultsHandler(httpEvent({ routeKey: 'GET /jobs', path: '/jobs', query })),
          );
          if (res.status !== 200) expectClientError(res);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('GET /jobs/{jobId}, GET /jobs/{jobId}/result and cancel with any id: 400 or 404, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(pathText, async (jobId) => {
        const deps = fresh();
        for (const [route, path, run] of [
          ['GET /jobs/{jobId}', `/jobs/${jobId}`, resultsHandler],
          ['GET /jobs/{jobId}/result', `/jobs/${jobId}/result`, resultsHandler],
          ['POST /jobs/{jobId}/cancel', `/jobs/${jobId}/cancel`, submitHandler],
        ] as const) {
          const res = parseResult(await run(httpEvent({ routeKey: route, path, pathParameters: { jobId } })));
          expectClientError(res);
          expect([400, 404]).toContain(res.status);
        }
        expectNothingWritten(deps);
      }),
      { numRuns: 300 },
    );
  });

  it('webhooks with any id, token and body are a 401, counted, and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        pathText,
        fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/), pathText),
        fc.oneof(
          bodyText,
          fc.constant(JSON.stringify({ id: 'up-1', status: 'COMPLETED', output: 'forged' })),
        ),
        async (knownJob, randomId, token, body) => {
          const deps = fresh();
          const job = pendingJob({ jobId: ulid(), upstreamId: 'up-1' });
          await deps.jobs.create(job);
          const jobId = knownJob ? job.jobId : randomId;
          const res = parseResult(
            await webhookHandler(
              httpEvent({
                routeKey: 'POST /webhooks/{jobId}/{token}',
                path: `/webhooks/${jobId}/${token}`,
                pathParameters: { jobId, token },
                body,
                headers: { 'content-type': 'application/json' },
              }),
            ),
          );
          expectClientError(res, 401);
          expect(res.json?.error.code).toBe('WEBHOOK_UNAUTHORIZED');
          expect(deps.metrics.get('WebhooksRejected')).toBe(1);
          expect(await deps.jobs.get(job.jobId)).toEqual(job);
          expect(deps.jobs.events).toEqual([]);
          expect(deps.archive.puts).toBe(0);
          expect(deps.upstream.calls).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
