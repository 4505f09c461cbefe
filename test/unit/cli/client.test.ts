// The API client without a network: auth headers, URLs under a stage prefix, answers that are not the archiver's.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiClient, encodeQuery } from '../../../cli/http/client.ts';

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
