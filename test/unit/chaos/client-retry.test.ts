// The chaos suite's clients retry a 429 after its Retry-After, as the README tells clients to, instead of stopping.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChaosClient, type RequestRecord } from '../../chaos/client.ts';
import { Gate } from '../../chaos/gate.ts';
import { Dice } from '../../chaos/rng.ts';
import type { JobSpec } from '../../chaos/workload.ts';

/** Answers each reconcile with the next of `answers` (status, error code), then 200. */
function fakeApi(
  answers: Array<[number, string]>,
): Promise<{ server: Server; url: string; calls: () => number }> {
  let calls = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const next = answers[calls++];
      if (!next) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ job: { jobId: 'J1', state: 'PENDING' } }));
        return;
      }
      const [status, code] = next;
      response.writeHead(status, {
        'content-type': 'application/json',
        ...(status === 429 && { 'retry-after': '1' }),
      });
      response.end(JSON.stringify({ error: { code, message: code } }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls: () => calls,
      }),
    ),
  );
}

const record = (): RequestRecord => ({
  spec: { key: 'k1', role: 'ambiguous' } as unknown as JobSpec,
  jobIds: ['J1'],
  answers: {},
  attempts: 0,
  replays: 0,
  splitAnswers: [],
});

describe('a chaos client reconciling', () => {
  let api: Awaited<ReturnType<typeof fakeApi>> | undefined;
  const client = (url: string) =>
    new ChaosClient(url, new Gate(), new Dice(1, 'test'), () => Number.POSITIVE_INFINITY);

  beforeEach(() => {
    api = undefined;
  });
  afterEach(() => {
    api?.server.close();
  });

  it('answered 429 UPSTREAM_RATE_LIMITED retries after Retry-After until the job is attached', async () => {
    api = await fakeApi([
      [429, 'UPSTREAM_RATE_LIMITED'],
      [429, 'UPSTREAM_RATE_LIMITED'],
    ]);
    const r = record();
    const answer = await client(api.url).reconcile(r, 'up-1');
    expect(answer?.status).toBe(200);
    expect(r.failure).toBeUndefined();
    expect(r.answers).toEqual({ 'reconcile 429 UPSTREAM_RATE_LIMITED': 2, 'reconcile 200': 1 });
    expect(api.calls()).toBe(3);
  });

  it('answered a 4xx that retrying cannot fix stops and says why', async () => {
    api = await fakeApi([[409, 'RECONCILE_CONFLICT']]);
    const r = record();
    const answer = await client(api.url).reconcile(r, 'up-1');
    expect(answer?.status).toBe(409);
    expect(r.failure).toBe('reconcile answered 409 RECONCILE_CONFLICT');
    expect(api.calls()).toBe(1);
  });
});
