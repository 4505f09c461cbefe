// Hostile traffic over real HTTP against the local stack: forged webhooks, oversized and malformed requests, SSRF.
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookToken } from '../../functions/core/webhook-token.ts';
import type { JobHandler } from '../../local/emulator/index.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { WAIT_CAP_MS } from '../support/wait.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers loosely and asserts on them
type Json = any;

interface Answer {
  status: number;
  json: Json;
  text: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Files under the s3rver folder whose path mentions `needle` (the archive as it is on disk). */
async function storedFiles(dataDir: string, needle: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 's3'), { recursive: true }).catch(() => []);
  return entries.map(String).filter((path) => path.includes(needle));
}

describe('hostile traffic against the local stack', () => {
  let stack: LocalStack;
  let dataDir: string;
  let emulatorPort: number;
  let secret: string;
  /** Two jobs that stay running upstream for the whole file: nothing legitimate touches them. */
  let a: Json;
  let b: Json;
  const late = { url: '' };

  const call = async (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body }),
      redirect: 'manual',
    });
    const text = await res.text();
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const view = async (jobId: string) => (await call('GET', `/jobs/${jobId}`)).json;
  /**
   * The record and its audit trail (presigned links change every second, so they are left out; so are the
   * trail's own `links.issued` lines, which every read of the job adds).
   */
  const snapshot = async (jobId: string) => {
    const { job, events } = await view(jobId);
    return { job, events: events.filter((e: { type: string }) => e.type !== 'links.issued') };
  };
  /** Every job the archiver holds, whatever its state (a half-written one included). */
  const jobCount = async () => (await call('GET', '/jobs?limit=100')).json.jobs.length as number;
  const rejected = () => stack.runtime.metrics.totals.get('WebhooksRejected') ?? 0;
  const tokenOf = (jobId: string) => signWebhookToken(secret, jobId);
  const webhook = (jobId: string, token: string, body: unknown = {}) =>
    call('POST', `/webhooks/${jobId}/${token}`, typeof body === 'string' ? body : JSON.stringify(body));

  async function untilArchived(jobId: string): Promise<Json> {
    const deadline = Date.now() + WAIT_CAP_MS;
    for (;;) {
      const seen = await view(jobId);
      if (seen?.job?.state === 'ARCHIVED') return seen;
      if (Date.now() > deadline) throw new Error(`job ${jobId} not archived: ${JSON.stringify(seen?.job)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const forged = () => ({ id: a.upstreamId, status: 'COMPLETED', output: { text: 'forged' } });

  const ssrf: JobHandler = async () => ({
    kind: 'completed',
    hasOutput: true,
    output: [
      { image: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' },
      { image: 'https://169.254.169.254/latest/meta-data/' },
      { image: `${late.url}/health` },
      { image: 'https://[::ffff:127.0.0.1]/x.png' },
      { image: `http://127.0.0.1:${emulatorPort}/files/none/0.png` },
    ],
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-hostile-'));
    emulatorPort = await freePort();
    stack = await startLocalStack({
      port: 0,
      dataDir,
      dynamoInMemory: true,
      // No sweeper: the forged requests must be the only thing that could change the running jobs.
      sweepIntervalMs: 3_600_000,
      emulator: {
        port: emulatorPort,
        jobDurationMs: 50,
        startDelayMs: 5,
        webhookRetryDelayMs: 200,
        webhookTimeoutMs: 2000,
        handlers: { ssrf },
      },
      config: {
        FIRST_LOOK_MS: '3600000',
        LOOK_INTERVAL_MS: '3600000',
        LOG_LEVEL: 'silent',
        ARTIFACTS_FETCH_URLS: 'true',
        ARTIFACT_FETCH_ALLOW_HOSTS: `127.0.0.1:${emulatorPort}`,
        ARTIFACT_FETCH_TIMEOUT_MS: '3000',
      },
    });
    late.url = stack.url;
    secret = await stack.runtime.webhookSecret();
    const running = JSON.stringify({ input: { handler: 'slow', durationMs: 600_000 } });
    a = (await call('POST', '/jobs', running)).json.job;
    b = (await call('POST', '/jobs', running)).json.job;
    expect(a.state).toBe('PENDING');
    expect(b.state).toBe('PENDING');
  });

  afterAll(async () => {
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('forged webhooks', () => {
    const cases: Array<[string, () => string]> = [
      ['a random token', () => 'A'.repeat(43)],
      ['a token signed with another secret', () => signWebhookToken('z'.repeat(43), a.jobId)],
      ["another job's token", () => tokenOf(b.jobId)],
      ['a truncated token', () => tokenOf(a.jobId).slice(0, 42)],
      ['a token cut in half', () => tokenOf(a.jobId).slice(0, 21)],
      ['a padded token', () => `${tokenOf(a.jobId)}A`],
      ['a token padded with an encoded =', () => `${tokenOf(a.jobId)}%3D`],
      [
        'a token with an encoded slash',
        () => `${tokenOf(a.jobId).slice(0, 20)}%2F${tokenOf(a.jobId).slice(20)}`,
      ],
      ['a token in lower case', () => tokenOf(a.jobId).toLowerCase()],
    ];

    it.each(cases)('%s → 401, counted, nothing stored', async (_, token) => {
      const before = await snapshot(a.jobId);
      const count = rejected();
      const res = await webhook(a.jobId, token(), forged());
      expect(res.status).toBe(401);
      expect(res.json.error).toEqual({
        code: 'WEBHOOK_UNAUTHORIZED',
        message: expect.any(String),
        details: expect.any(Object),
      });
      expect(rejected()).toBe(count + 1);
      expect(await snapshot(a.jobId)).toEqual(before);
      expect(await storedFiles(dataDir, `${a.jobId}/result.json`)).toEqual([]);
    });

    it("a valid token replayed to another job's URL → 401, counted, nothing stored", async () => {
      const before = await snapshot(b.jobId);
      const count = rejected();
      const res = await webhook(b.jobId, tokenOf(a.jobId), { ...forged(), id: b.upstreamId });
      expect(res.status).toBe(401);
      expect(rejected()).toBe(count + 1);
      expect(await snapshot(b.jobId)).toEqual(before);
      expect(await storedFiles(dataDir, `${b.jobId}/result.json`)).toEqual([]);
    });

    it('a malformed job id with a token → 401, counted', async () => {
      const count = rejected();
      for (const id of [a.jobId.toLowerCase(), `${a.jobId}X`, '..%2F..%2Fjobs', '%00']) {
        expect((await webhook(id, tokenOf(a.jobId), forged())).status).toBe(401);
      }
      expect(rejected()).toBe(count + 4);
    });

    it('a missing token never reaches the function (no route: 404) and stores nothing', async () => {
      const before = await snapshot(a.jobId);
      for (const path of [
        `/webhooks/${a.jobId}`,
        `/webhooks/${a.jobId}/`,
        `/webhooks//${tokenOf(a.jobId)}`,
      ]) {
        const res = await call('POST', path, JSON.stringify(forged()));
        expect(res.status).toBe(404);
      }
      expect(await snapshot(a.jobId)).toEqual(before);
    });

    it("a valid token with a body whose id is another job's: not archived from the body", async () => {
      const res = await webhook(a.jobId, tokenOf(a.jobId), {
        id: b.upstreamId,
        status: 'COMPLETED',
        output: { text: "b's result, forged" },
      });
      expect(res.status).toBe(200);
      // /status of a's own upstream job decides: it is still running.
      expect(res.json.outcome).toBe('rescheduled');
      const seen = await view(a.jobId);
      expect(seen.job.state).toBe('PENDING');
      expect(seen.job.resultKey).toBeUndefined();
      expect(seen.events.map((e: Json) => e.type)).toContain('webhook.unusable');
      expect(await storedFiles(dataDir, `${a.jobId}/result.json`)).toEqual([]);
      expect((await view(b.jobId)).job.state).toBe('PENDING');
    });

    it('a finished job replayed with a forged body keeps its archive byte for byte', async () => {
      const done = (await call('POST', '/jobs', JSON.stringify({ input: { prompt: 'real' } }))).json.job;
      const archived = await untilArchived(done.jobId);
      const original = await (await fetch(archived.links.result)).text();
      const res = await webhook(done.jobId, tokenOf(done.jobId), {
        id: done.upstreamId,
        status: 'COMPLETED',
        output: { text: 'rewritten' },
      });
      expect(res.json.outcome).toBe('duplicate');
      const after = await view(done.jobId);
      expect(await (await fetch(after.links.result)).text()).toBe(original);
      expect(original).not.toContain('rewritten');
    });
  });

  describe('oversized and malformed requests', () => {
    const rawRequest = (path: string, headers: Record<string, string>, body = '') =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(path, stack.url);
        const req = request(url, { method: body ? 'POST' : 'GET', headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });

    it('oversized headers get a 431 and the server keeps serving', async () => {
      const before = await snapshot(a.jobId);
      expect(await rawRequest('/health', { 'x-big': 'a'.repeat(20_000) })).toBe(431);
      expect(
        await rawRequest(
          `/webhooks/${a.jobId}/${tokenOf(a.jobId)}`,
          { 'content-type': 'application/json', 'x-big': 'b'.repeat(64_000) },
          JSON.stringify(forged()),
        ),
      ).toBe(431);
      expect((await call('GET', '/health')).status).toBe(200);
      expect(await snapshot(a.jobId)).toEqual(before);
    });

    it('bodies over the 10 MB request or 6 MB payload limit get a 413 and store nothing', async () => {
      const before = await snapshot(a.jobId);
      const count = await jobCount();
      const elevenMb = `{"id":"${a.upstreamId}","status":"COMPLETED","output":"${'x'.repeat(11 * 1024 * 1024)}"}`;
      const sevenMb = `{"id":"${a.upstreamId}","status":"COMPLETED","output":"${'x'.repeat(7 * 1024 * 1024)}"}`;
      expect((await webhook(a.jobId, tokenOf(a.jobId), elevenMb)).status).toBe(413);
      expect((await webhook(a.jobId, tokenOf(a.jobId), sevenMb)).status).toBe(413);
      expect((await call('POST', '/jobs', `{"input":{"p":"${'x'.repeat(11 * 1024 * 1024)}"}}`)).status).toBe(
        413,
      );
      expect((await call('POST', '/jobs', `{"input":{"p":"${'x'.repeat(7 * 1024 * 1024)}"}}`)).status).toBe(
        413,
      );
      expect(await snapshot(a.jobId)).toEqual(before);
      expect(await jobCount()).toBe(count);
      expect((await call('GET', '/health')).status).toBe(200);
    });

    const nested = `{"input":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const manyKeys = JSON.stringify(
      Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])),
    );
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    it.each([
      { name: 'invalid JSON', body: '{"input":', headers: {}, status: 400, code: 'INVALID_JSON' },
      { name: 'an empty body', body: '', headers: {}, status: 400, code: 'INVALID_JSON' },
      {
        name: 'invalid UTF-8',
        body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]),
        headers: {},
        status: 400,
        code: 'INVALID_JSON',
      },
      { name: '100,000 nested arrays', body: nested, headers: {}, status: 400, code: 'INVALID_REQUEST' },
      { name: 'a form body', body: 'input=1', headers: form, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      {
        name: 'text/plain',
        body: '{"input":{}}',
        headers: { 'content-type': 'text/plain' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      { name: 'a 100,000-key object', body: manyKeys, headers: {}, status: 400, code: 'INVALID_REQUEST' },
    ])('POST /jobs with $name → $status $code, nothing stored', async ({ body, headers, status, code }) => {
      const count = await jobCount();
      const res = await call('POST', '/jobs', body, headers);
      expect(res.status).toBe(status);
      expect(res.json.error.code).toBe(code);
      expect(res.text.length).toBeLessThan(10_000);
      expect(await jobCount()).toBe(count);
    });

    it('malformed percent-encoding in a path is a 400, not a 500', async () => {
      for (const path of ['/jobs/%25E0%25A4%25A', '/jobs/%25', '/jobs/%25ZZ/result', '/jobs/%E0%A4%A']) {
        const res = await call('GET', path);
        expect([400, 404]).toContain(res.status);
        expect(res.json.error.code).toMatch(/INVALID_REQUEST|JOB_NOT_FOUND/);
      }
      expect((await call('POST', '/jobs/%25E0%25A4%25A/cancel')).status).toBe(400);
    });
  });

  describe('artifact URLs in outputs', () => {
    it("fetches the emulator's image URLs (allow-listed locally) into artifacts", async () => {
      const job = (await call('POST', '/jobs', JSON.stringify({ input: { handler: 'image-url', count: 2 } })))
        .json.job;
      const seen = await untilArchived(job.jobId);
      expect(seen.job.artifacts).toEqual([
        expect.objectContaining({ contentType: 'image/png', from: 'output[0].image' }),
        expect.objectContaining({ contentType: 'image/png', from: 'output[1].image' }),
      ]);
      for (const link of seen.links.artifacts) {
        const bytes = Buffer.from(await (await fetch(link.url)).arrayBuffer());
        expect(bytes.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
      }
    });

    it('refuses metadata, loopback and plain-http URLs, records why, and archives the job anyway', async () => {
      const job = (await call('POST', '/jobs', JSON.stringify({ input: { handler: 'ssrf' } }))).json.job;
      const seen = await untilArchived(job.jobId);
      expect(seen.job.artifacts).toEqual([]);
      const problems = seen.events
        .filter((e: Json) => e.type.startsWith('artifact.'))
        .map((e: Json) => [e.type, e.detail.from]);
      expect(problems).toEqual(
        expect.arrayContaining([
          ['artifact.refused', 'output[0].image'],
          ['artifact.refused', 'output[1].image'],
          ['artifact.refused', 'output[2].image'],
          ['artifact.refused', 'output[3].image'],
          ['artifact.failed', 'output[4].image'],
        ]),
      );
      expect(problems).toHaveLength(5);
    });
  });
});
