// The API client without a network: auth headers, URLs under a stage prefix, answers that are not the archiver's.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiClient, encodeQuery, retryWaitMs } from '../../../cli/http/client.ts';

function recording(status: number, body: string) {
  const seen: Array<{ url: string; init: RequestInit | undefined }> = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    seen.push({ url: String(input), init });
    return new Response(body, { status });
  };
  return { seen, fetchImpl };
}

describe('ApiClient', () => {
  it('sends a bearer token and JSON, under the base URL path', async () => {
    const { seen, fetchImpl } = recording(202, '{"ok":true}');
    const client = new ApiClient({
      baseUrl: new URL('https://api.example.com/prod/'),
      auth: { kind: 'bearer', token: 't0k' },
      fetch: fetchImpl,
    });
    const res = await client.request('POST', '/jobs', z.object({ ok: z.boolean() }), {
      body: { input: {} },
      headers: { 'idempotency-key': 'k-12345678' },
    });
    expect(res).toMatchObject({ status: 202, data: { ok: true } });
    expect(seen[0]?.url).toBe('https://api.example.com/prod/jobs');
    expect(seen[0]?.init?.headers).toMatchObject({
      authorization: 'Bearer t0k',
      'content-type': 'application/json',
      'idempotency-key': 'k-12345678',
    });
    expect(seen[0]?.init?.body).toBe('{"input":{}}');
  });

  it('sends no credentials locally, and says so when an answer is not the archiver JSON', async () => {
    const { seen, fetchImpl } = recording(200, '<html>hello</html>');
    const client = new ApiClient({
      baseUrl: new URL('http://127.0.0.1:8787'),
      auth: { kind: 'none' },
      fetch: fetchImpl,
    });
    await expect(
      client.request('GET', '/jobs', z.object({ jobs: z.array(z.unknown()) })),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('not the archiver'),
    });
    expect(seen[0]?.init?.headers).not.toHaveProperty('authorization');
  });

  it('maps error answers and refused connections to exit codes', async () => {
    const notFound = recording(404, '{"error":{"code":"JOB_NOT_FOUND","message":"No job X","details":{}}}');
    const client = new ApiClient({
      baseUrl: new URL('http://127.0.0.1:8787'),
      auth: { kind: 'none' },
      fetch: notFound.fetchImpl,
    });
    await expect(client.request('GET', '/jobs/X', z.unknown())).rejects.toMatchObject({ exitCode: 3 });
    const refused = new ApiClient({
      baseUrl: new URL('http://127.0.0.1:8787'),
      auth: { kind: 'none' },
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
        });
      },
    });
    await expect(refused.request('GET', '/jobs', z.unknown())).rejects.toMatchObject({
      exitCode: 4,
      hints: [expect.stringContaining('npm start')],
    });
  });

  it('encodes queries the way SigV4 canonicalizes them', () => {
    expect(encodeQuery({ tag: "k=it's (a) test*", limit: 5, cursor: undefined })).toBe(
      'tag=k%3Dit%27s%20%28a%29%20test%2A&limit=5',
    );
  });
});

describe('ApiClient on 429 (the upstream rate limit passed on)', () => {
  const rateLimited = (retryAfter: string | undefined) =>
    new Response(
      JSON.stringify({ error: { code: 'UPSTREAM_RATE_LIMITED', message: 'slow down', details: {} } }),
      {
        status: 429,
        headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
      },
    );

  function scripted(answers: Array<() => Response>) {
    let calls = 0;
    const fetchImpl: typeof fetch = async () => {
      const next = answers[Math.min(calls, answers.length - 1)];
      calls++;
      if (!next) throw new Error('no answer scripted');
      return next();
    };
    return { fetchImpl, calls: () => calls };
  }

  it('retries after Retry-After and says so each time', async () => {
    const { fetchImpl, calls } = scripted([
      () => rateLimited('0'),
      () => rateLimited('0'),
      () => new Response('{"ok":true}', { status: 202 }),
    ]);
    const notices: unknown[] = [];
    const client = new ApiClient({
      baseUrl: new URL('http://127.0.0.1:8787'),
      auth: { kind: 'none' },
      fetch: fetchImpl,
      onRetry: (n) => notices.push(n),
    });
    const res = await client.request('POST', '/jobs', z.object({ ok: z.boolean() }), { body: {} });
    expect(res.status).toBe(202);
    expect(calls()).toBe(3);
    expect(notices).toEqual([
      { method: 'POST', path: '/jobs', code: 'UPSTREAM_RATE_LIMITED', waitMs: 0, attempt: 1, maxRetries: 3 },
      { method: 'POST', path: '/jobs', code: 'UPSTREAM_RATE_LIMITED', waitMs: 0, attempt: 2, maxRetries: 3 },
    ]);
  });

  it('gives up after maxRetries, and at once when Retry-After is beyond the bound', async () => {
    const always = scripted([() => rateLimited('0')]);
    const client = new ApiClient({
      baseUrl: new URL('http://127.0.0.1:8787'),
      auth: { kind: 'none' },
      fetch: always.fetchImpl,
      maxRetries: 2,
    });
    await expect(client.request('GET', '/jobs', z.unknown())).rejects.toMatchObject({ status: 429 });
    expect(always.calls()).toBe(3);

    const far = scripted([() => rateLimited('3600')]);
    const notices: unknown[] = [];
    const patient = new ApiClient({
      baseUrl: new URL('http://127.0.0.1:8787'),
      auth: { kind: 'none' },
      fetch: far.fetchImpl,
      onRetry: (n) => notices.push(n),
    });
    const error = await patient.request('GET', '/jobs', z.unknown()).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, hints: expect.arrayContaining(['retry after 3600 s']) });
    expect(far.calls()).toBe(1);
    expect(notices).toEqual([]);
  });

  it('reads Retry-After as seconds or a date, with a doubling fallback', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(retryWaitMs('7', 1, now)).toBe(7000);
    expect(retryWaitMs('Sun, 29 Nov 2026 12:00:05 GMT', 1, now)).toBe(5000);
    expect(retryWaitMs(null, 1, now)).toBe(1000);
    expect(retryWaitMs(null, 3, now)).toBe(4000);
    // Read like the upstream client reads it: fractions of seconds, and a bare negative number is no date.
    expect(retryWaitMs('1.5', 1, now)).toBe(1500);
    expect(retryWaitMs('-5', 2, now)).toBe(2000);
  });
});
