// The SubModel emulator over real HTTP on 127.0.0.1: documented operations, webhooks, faults, limits, retention.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../local/emulator/index.ts';
import { WAIT_CAP_MS } from '../support/wait.ts';

const KEY = 'test-key';
const PNG_SIGNATURE = '89504e470d0a1a0a';

type Json = Record<string, unknown>;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

async function start(options: EmulatorOptions & { stateFile?: string } = {}): Promise<Emulator> {
  const emulator = await startEmulator({ apiKey: KEY, jobDurationMs: 20, startDelayMs: 0, ...options });
  cleanups.push(() => emulator.stop());
  return emulator;
}

interface CallOptions {
  method?: string;
  body?: unknown;
  raw?: string | Buffer;
  /** null: no Authorization header at all. */
  auth?: string | null;
}

async function call(url: string, options: CallOptions = {}) {
  const headers: Record<string, string> = {};
  if (options.auth !== null) headers.authorization = options.auth ?? `Bearer ${KEY}`;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const text = await response.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON (HTML 502 pages, empty bodies): tests look at `text`
  }
  return { status: response.status, text, json, headers: response.headers };
}

/** Submits to /run and returns the job id. */
async function submit(base: string, body: Json): Promise<string> {
  const response = await call(`${base}/run`, { body });
  expect(response.status).toBe(200);
  expect(response.json.status).toBe('IN_QUEUE');
  return String(response.json.id);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = WAIT_CAP_MS): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

interface Received {
  raw: string;
  at: number;
  headers: IncomingHttpHeaders;
}

/** A webhook receiver whose answer (status, delay) is chosen per call number. */
async function startReceiver(
  answer: (n: number) => { status: number; delayMs?: number } = () => ({ status: 200 }),
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const n = received.length;
      received.push({ raw: Buffer.concat(parts).toString('utf8'), at: Date.now(), headers: req.headers });
      const { status, delayMs = 0 } = answer(n);
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(status).end();
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    waitFor: (count: number, timeoutMs = WAIT_CAP_MS) =>
      eventually(async () => (received.length >= count ? received : undefined), timeoutMs),
  };
}

describe('SubModel emulator', () => {
  it('runs a job to COMPLETED on both URL styles and serves the status bytes it produced', async () => {
    const emu = await start();
    for (const style of ['v2', 'sl'] as const) {
      const base = emu.baseUrlFor('ep1', style);
      const id = await submit(base, { input: { prompt: `hello ${style}` } });
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-u1$/);
      const done = await eventually(async () => {
        const r = await call(`${base}/status/${id}`);
        return r.json.status === 'COMPLETED' ? r : undefined;
      });
      expect(done.json).toMatchObject({
        id,
        status: 'COMPLETED',
        output: { text: `hello ${style}` },
        retries: 0,
      });
      expect(done.json.delayTime).toEqual(expect.any(Number));
      expect(done.json.executionTime).toEqual(expect.any(Number));
      expect(done.json.workerId).toMatch(/^[0-9a-z]{14}$/);
      expect(done.text).toBe(emu.jobs.statusJson(id));
      expect(Object.keys(done.json)).toEqual([...Object.keys(done.json)].sort());
      // POST works for status too; another endpoint does not see the job.
      expect((await call(`${base}/status/${id}`, { method: 'POST' })).text).toBe(done.text);
      expect((await call(`${emu.baseUrlFor('other', style)}/status/${id}`)).status).toBe(404);
    }
    const sameJobOtherStyle = await submit(emu.baseUrlFor('ep1', 'v2'), { input: {} });
    expect((await call(`${emu.baseUrlFor('ep1', 'sl')}/status/${sameJobOtherStyle}`)).status).toBe(200);
    expect(emu.stats.requests.run).toBe(3);
  });

  it('checks the bearer key (401), methods (405) and request bodies (400, 413)', async () => {
    const emu = await start();
    const base = emu.baseUrlFor('ep');
    expect((await call(`${base}/health`, { auth: null })).status).toBe(401);
    expect((await call(`${base}/health`, { auth: 'Bearer wrong' })).status).toBe(401);
    expect((await call(`${base}/health`, { auth: KEY })).status).toBe(200); // bare key, as old SDKs send it
    expect((await call(`${base}/health`)).status).toBe(200);
    expect(emu.stats.unauthorized).toBe(2);
    expect((await call(`${base}/run`)).status).toBe(405);
    expect((await call(`${base}/run`, { raw: '{nope' })).status).toBe(400);
    expect((await call(`${base}/run`, { body: { prompt: 'no input' } })).status).toBe(400);
    expect((await call(`${base}/run`, { body: { input: [1, 2] } })).status).toBe(400);
    expect((await call(`${base}/run`, { body: { input: {}, policy: { ttl: 'x' } } })).status).toBe(400);
    const filler = 'x'.repeat(10 * 1024 * 1024);
    const oversized = await call(`${base}/run`, { raw: JSON.stringify({ input: { filler } }) });
    expect(oversized.status).toBe(413);
    expect(emu.jobs.size).toBe(0);
    expect((await call(`${emu.url}/v2/ep/unknown-op`)).status).toBe(404);
  });

  it('produces each handler kind deterministically', async () => {
    const emu = await start({ seed: 7 });
    const base = emu.baseUrlFor('ep');
    const run = async (input: Json) => {
      const id = await submit(base, { input });
      await emu.jobs.waitFor(id);
      return (await call(`${base}/status/${id}`)).json;
    };
    const b64 = await run({ handler: 'image-base64', seed: 5 });
    expect(
      Buffer.from(String((b64.output as Json).image_base64), 'base64')
        .subarray(0, 8)
        .toString('hex'),
    ).toBe(PNG_SIGNATURE);
    const dataUri = await run({ kind: 'image_datauri', width: 8, height: 4 });
    expect(String((dataUri.output as Json).image)).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);

    const urls = await run({ handler: 'image-url', count: 2, seed: 100 });
    const images = urls.output as { image: string; seed: number }[];
    expect(images.map((i) => i.seed)).toEqual([100, 101]);
    expect(images[0]?.image.startsWith(`${emu.url}/files/`)).toBe(true);
    const file = await fetch(images[0]?.image ?? '');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await file.arrayBuffer())
        .subarray(0, 8)
        .toString('hex'),
    ).toBe(PNG_SIGNATURE);
    const expired = new URL(images[0]?.image ?? '');
    expired.searchParams.set('expires', String(Date.now() - 1));
    expect((await fetch(expired)).status).toBe(403);

    const large1 = await run({ handler: 'large', bytes: 300_000, seed: 3 });
    const large2 = await run({ handler: 'large', bytes: 300_000, seed: 3 });
    expect(String((large1.output as Json).text)).toHaveLength(300_000);
    expect(large1.output).toEqual(large2.output);
    const noSeedA = await run({ handler: 'large', bytes: 1000, tag: 'a' });
    const noSeedB = await run({ tag: 'a', handler: 'large', bytes: 1000 }); // key order does not matter
    expect(noSeedA.output).toEqual(noSeedB.output);

    const failed = await run({ handler: 'fail', message: 'boom' });
    expect(failed.status).toBe('FAILED');
    expect(failed.output).toBeUndefined();
    expect(JSON.parse(String(failed.error))).toMatchObject({ error_message: 'boom' });

    const empty = await run({ handler: 'empty' });
    expect(empty.status).toBe('COMPLETED');
    expect('output' in empty).toBe(false);

    const unknown = await run({ handler: 'nope' });
    expect(unknown.status).toBe('FAILED');
  });

  it('delivers webhooks as the real service does: status object + input + webhook, unsigned', async () => {
    const receiver = await startReceiver();
    const emu = await start();
    const base = emu.baseUrlFor('ep');
    const id = await submit(base, { input: { prompt: 'hook me' }, webhook: receiver.url });
    const failedId = await submit(base, { input: { handler: 'fail' }, webhook: receiver.url });
    const [first, second] = await receiver.waitFor(2);
    const bodies = [first, second].map((r) => JSON.parse(r?.raw ?? '') as Json);
    const body = bodies.find((b) => b.id === id) ?? {};
    expect(Object.keys(body)).toEqual([
      'delayTime',
      'executionTime',
      'id',
      'input',
      'output',
      'retries',
      'status',
      'webhook',
      'workerId',
    ]);
    expect(body).toMatchObject({ status: 'COMPLETED', input: { prompt: 'hook me' }, webhook: receiver.url });
    const { input: _input, webhook: _webhook, ...statusPart } = body;
    expect(JSON.stringify(statusPart)).toBe(emu.jobs.statusJson(id));
    expect(bodies.find((b) => b.id === failedId)?.status).toBe('FAILED');
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers.authorization).toBeUndefined();
    await eventually(async () => (emu.stats.webhooks.delivered === 2 ? true : undefined));
    expect(emu.stats.webhooks).toMatchObject({ sent: 2, delivered: 2, failed: 0 });

    // CANCELLED sends nothing by default.
    emu.configureEndpoint('idle', { workers: 0 });
    const queued = await submit(emu.baseUrlFor('idle'), { input: {}, webhook: receiver.url });
    await call(`${emu.baseUrlFor('idle')}/cancel/${queued}`, { method: 'POST' });
    await sleep(50);
    expect(receiver.received).toHaveLength(2);
    expect(emu.stats.webhooks.skipped).toBe(1);
  });

  it('retries a webhook answered 500, webhookRetryDelayMs apart, and gives up after 3 tries', async () => {
    const receiver = await startReceiver((n) => ({ status: n < 2 ? 500 : 200 }));
    const emu = await start({ webhookRetryDelayMs: 80 });
    await submit(emu.baseUrlFor('ep'), { input: {}, webhook: receiver.url });
    const [a, b, c] = await receiver.waitFor(3);
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(70);
    expect((c?.at ?? 0) - (b?.at ?? 0)).toBeGreaterThanOrEqual(70);
    expect(a?.raw).toBe(c?.raw);
    await eventually(async () => (emu.stats.webhooks.delivered === 1 ? true : undefined));
    expect(emu.stats.webhooks).toMatchObject({ sent: 3, retried: 2, delivered: 1, failed: 0 });

    const down = await startReceiver(() => ({ status: 503 }));
    const id = await submit(emu.baseUrlFor('ep'), { input: {}, webhook: down.url });
    await down.waitFor(3);
    await eventually(async () => (emu.stats.webhooks.failed === 1 ? true : undefined));
    await sleep(150);
    expect(down.received).toHaveLength(3);
    expect(emu.jobs.get(id)?.webhookDeliveries.map((d) => d.httpStatus)).toEqual([503, 503, 503]);
  });

  it('retries a webhook that times out, so a slow receiver gets a duplicate', async () => {
    const receiver = await startReceiver((n) => ({ status: 200, delayMs: n === 0 ? 250 : 0 }));
    const emu = await start({ webhookTimeoutMs: 100, webhookRetryDelayMs: 20 });
    await submit(emu.baseUrlFor('ep'), { input: {}, webhook: receiver.url });
    const [first, second] = await receiver.waitFor(2);
    expect(first?.raw).toBe(second?.raw);
    await eventually(async () => (emu.stats.webhooks.delivered === 1 ? true : undefined));
    expect(emu.stats.webhooks.timeouts).toBe(1);
  });

  it('injects seeded webhook faults: drop, duplicate, delay, empty and null bodies, oversize', async () => {
    const receiver = await startReceiver();
    const emu = await start({ faults: { seed: 9, webhookDrop: 1 } });
    const base = emu.baseUrlFor('ep');
    const dropped = await submit(base, { input: {}, webhook: receiver.url });
    await emu.jobs.waitFor(dropped);
    await sleep(50);
    expect(receiver.received).toHaveLength(0);
    expect(emu.stats.webhooks.dropped).toBe(1);

    emu.setFaults({ webhookDuplicate: 1 });
    await submit(base, { input: {}, webhook: receiver.url });
    const [one, two] = await receiver.waitFor(2);
    expect(one?.raw).toBe(two?.raw);
    expect(emu.stats.webhooks.duplicated).toBe(1);

    emu.setFaults({ webhookDelayMs: 200 });
    const delayed = await submit(base, { input: {}, webhook: receiver.url });
    const finishedAt = (await emu.jobs.waitFor(delayed)).finishedAt ?? 0;
    const [, , third] = await receiver.waitFor(3);
    expect((third?.at ?? 0) - finishedAt).toBeGreaterThanOrEqual(190);

    emu.setFaults({ webhookEmptyBody: 1 });
    await submit(base, { input: {}, webhook: receiver.url });
    expect((await receiver.waitFor(4))[3]?.raw).toBe('');

    emu.setFaults({ webhookNullBody: 1 });
    await submit(base, { input: {}, webhook: receiver.url });
    expect((await receiver.waitFor(5))[4]?.raw).toBe('null');

    emu.setFaults({});
    const small = await start({ webhookMaxBodyBytes: 2000 });
    const big = await submit(small.baseUrlFor('ep'), {
      input: { handler: 'large', bytes: 5000 },
      webhook: receiver.url,
    });
    await small.jobs.waitFor(big);
    await sleep(50);
    expect(receiver.received).toHaveLength(5);
    expect(small.stats.webhooks.tooLarge).toBe(1);
    expect((await call(`${small.baseUrlFor('ep')}/status/${big}`)).json.status).toBe('COMPLETED');
  });

  it('injects seeded 5xx, lost responses and latency per operation class, reproducibly', async () => {
    const sequence = async (seed: number) => {
      const emu = await start({ faults: { seed, serverError: { status: 0.5 } } });
      const base = emu.baseUrlFor('ep');
      const id = await submit(base, { input: {} });
      const codes: number[] = [];
      for (let i = 0; i < 24; i++) codes.push((await call(`${base}/status/${id}`)).status);
      return codes;
    };
    const a = await sequence(42);
    expect(await sequence(42)).toEqual(a);
    expect(a.filter((code) => code >= 500).length).toBeGreaterThan(0);
    expect(a.filter((code) => code === 200).length).toBeGreaterThan(0);
    expect(await sequence(43)).not.toEqual(a);

    const emu = await start({
      faults: { lostResponse: { run: 1 }, serverErrorStatuses: [502], latencyMs: { health: 150 } },
    });
    const base = emu.baseUrlFor('ep');
    const lost = await call(`${base}/run`, { body: { input: { prompt: 'ghost' } } });
    expect(lost.status).toBe(502);
    expect(lost.text).toContain('502 Bad Gateway');
    expect(emu.jobs.list()).toHaveLength(1); // the job exists although the client never learnt its id
    const t0 = Date.now();
    expect((await call(`${base}/health`)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(emu.stats.injectedErrors).toBe(1);
    emu.setFaults({});
    expect((await call(`${base}/run`, { body: { input: {} } })).status).toBe(200);
  });

  it('forgets results after retention (404) and drops them from memory', async () => {
    const emu = await start({ retentionMs: 150, runsyncRetentionMs: 80, purgeIntervalMs: 20 });
    const base = emu.baseUrlFor('ep');
    const id = await submit(base, { input: {} });
    await emu.jobs.waitFor(id);
    expect((await call(`${base}/status/${id}`)).status).toBe(200);
    await sleep(100);
    expect((await call(`${base}/status/${id}`)).status).toBe(200);
    await sleep(120);
    const gone = await call(`${base}/status/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 'request does not exist' });
    expect(emu.jobs.get(id)?.removed).toBe('expired');
    expect((await call(`${base}/retry/${id}`, { method: 'POST' })).status).toBe(404);

    const sync = await call(`${base}/runsync`, { body: { input: {} } });
    expect(sync.json.status).toBe('COMPLETED');
    expect(String(sync.json.id)).toMatch(/^sync-/);
    await sleep(130);
    expect((await call(`${base}/status/${String(sync.json.id)}`)).status).toBe(404);

    // Jobs never read again are swept from memory too.
    const unread = await submit(base, { input: {} });
    await emu.jobs.waitFor(unread);
    await sleep(250);
    expect(emu.jobs.size).toBe(0);
    expect(emu.stats.jobs.expired).toBe(3);
  });

  it('honours policy.ttl, ?ttl= on status and policy.executionTimeout', async () => {
    const emu = await start();
    const base = emu.baseUrlFor('ep');
    const ttlJob = await submit(base, { input: { durationMs: 2000 }, policy: { ttl: 200 } });
    await emu.jobs.waitFor(ttlJob, 'IN_PROGRESS');
    expect((await call(`${base}/status/${ttlJob}`)).json.status).toBe('IN_PROGRESS');
    await sleep(230);
    expect((await call(`${base}/status/${ttlJob}`)).status).toBe(404);

    const shortened = await submit(base, { input: {} });
    await emu.jobs.waitFor(shortened);
    expect((await call(`${base}/status/${shortened}?ttl=100`)).status).toBe(200);
    await sleep(130);
    expect((await call(`${base}/status/${shortened}`)).status).toBe(404);

    const slow = await submit(base, {
      input: { handler: 'slow', durationMs: 2000 },
      policy: { executionTimeout: 120 },
    });
    const timedOut = await emu.jobs.waitFor(slow, undefined, 2000);
    expect(timedOut.status).toBe('TIMED_OUT');
    const status = (await call(`${base}/status/${slow}`)).json;
    expect(status).toMatchObject({ status: 'TIMED_OUT' });
    expect(Number(status.executionTime)).toBeGreaterThanOrEqual(110);
    expect(Number(status.executionTime)).toBeLessThan(1000);
  });

  it('cancels queued and running jobs and retries only FAILED or TIMED_OUT ones', async () => {
    const emu = await start({ endpoints: { idle: { workers: 0 } } });
    const idle = emu.baseUrlFor('idle');
    const queued = await submit(idle, { input: {} });
    const cancelled = await call(`${idle}/cancel/${queued}`, { method: 'POST' });
    expect(cancelled.json).toEqual({ id: queued, status: 'CANCELLED' });
    expect((await call(`${idle}/status/${queued}`)).json.status).toBe('CANCELLED');

    const base = emu.baseUrlFor('ep');
    const running = await submit(base, { input: { durationMs: 2000 } });
    await emu.jobs.waitFor(running, 'IN_PROGRESS');
    expect((await call(`${base}/cancel/${running}`, { method: 'POST' })).json.status).toBe('CANCELLED');
    const afterCancel = (await call(`${base}/status/${running}`)).json;
    expect(afterCancel.status).toBe('CANCELLED');
    expect(afterCancel.output).toBeUndefined();
    expect((await call(`${base}/cancel/nope-u1`, { method: 'POST' })).status).toBe(404);

    const done = await submit(base, { input: {} });
    await emu.jobs.waitFor(done);
    expect((await call(`${base}/retry/${done}`, { method: 'POST' })).status).toBe(400);
    expect((await call(`${base}/retry/${running}`, { method: 'POST' })).status).toBe(400);

    const flaky = await submit(base, { input: { handler: 'flaky', prompt: 'second time lucky' } });
    expect((await emu.jobs.waitFor(flaky)).status).toBe('FAILED');
    const retried = await call(`${base}/retry/${flaky}`, { method: 'POST' });
    expect(retried.json).toEqual({ id: flaky, status: 'IN_QUEUE' });
    const requeued = (await call(`${base}/status/${flaky}`)).json;
    expect(requeued.error).toBeUndefined();
    expect(requeued.status).toMatch(/IN_QUEUE|IN_PROGRESS/);
    await emu.jobs.waitFor(flaky, 'COMPLETED');
    const final = (await call(`${base}/status/${flaky}`)).json;
    expect(final).toMatchObject({
      id: flaky,
      status: 'COMPLETED',
      retries: 1,
      output: { text: 'second time lucky' },
    });
    expect((await call(`${base}/health`)).json.jobs).toMatchObject({ retried: 1 });

    const timed = await submit(base, {
      input: { durationMs: 1000, failTimes: 0 },
      policy: { executionTimeout: 50 },
    });
    await emu.jobs.waitFor(timed, 'TIMED_OUT');
    expect((await call(`${base}/retry/${timed}`, { method: 'POST' })).status).toBe(200);
  });

  it('purges the queue but not running jobs, and reports health counts', async () => {
    const emu = await start({ endpoints: { ep: { workers: 1 } } });
    const base = emu.baseUrlFor('ep');
    const ok = await submit(base, { input: {} });
    await emu.jobs.waitFor(ok);
    const bad = await submit(base, { input: { handler: 'fail' } });
    await emu.jobs.waitFor(bad);
    const running = await submit(base, { input: { durationMs: 400 } });
    await emu.jobs.waitFor(running, 'IN_PROGRESS');
    const queued = [await submit(base, { input: {} }), await submit(base, { input: {} })];
    const health = await call(`${base}/health`);
    expect(health.json).toEqual({
      jobs: { completed: 1, failed: 1, inProgress: 1, inQueue: 2, retried: 0 },
      workers: { idle: 0, initializing: 0, ready: 0, running: 1, throttled: 0, unhealthy: 0 },
    });
    const purged = await call(`${base}/purge-queue`, { method: 'POST' });
    expect(purged.json).toEqual({ removed: 2, status: 'completed' });
    expect((await call(`${base}/status/${queued[0]}`)).status).toBe(404);
    expect((await emu.jobs.waitFor(running)).status).toBe('COMPLETED');
    expect((await call(`${base}/health`)).json).toMatchObject({
      jobs: { completed: 2, failed: 1, inProgress: 0, inQueue: 0 },
      workers: { idle: 1, running: 0 },
    });
    expect(emu.stats.jobs.purged).toBe(2);
  });

  it('streams generator chunks, each read returning what is new', async () => {
    const emu = await start();
    const base = emu.baseUrlFor('ep');
    const id = await submit(base, {
      input: { handler: 'stream', prompt: 'a b c d', chunks: 4, intervalMs: 40 },
    });
    const seen: unknown[] = [];
    let last = '';
    while (last !== 'COMPLETED') {
      const r = await call(`${base}/stream/${id}`);
      last = String(r.json.status);
      seen.push(...(r.json.stream as { output: unknown }[]).map((c) => c.output));
      await sleep(15);
    }
    expect(seen).toEqual([
      { index: 0, text: ' a' },
      { index: 1, text: ' b' },
      { index: 2, text: ' c' },
      { index: 3, text: ' d' },
    ]);
    expect((await call(`${base}/stream/${id}`)).json).toEqual({ status: 'COMPLETED', stream: [] });
    expect((await call(`${base}/status/${id}`)).json.output).toEqual(seen);
  });

  it('long-polls with status-sync and runsync within ?wait=', async () => {
    const emu = await start({ syncWaitMinMs: 50 });
    const base = emu.baseUrlFor('ep');
    const id = await submit(base, { input: { durationMs: 250 } });
    const t0 = Date.now();
    const synced = await call(`${base}/status-sync/${id}?wait=3000`);
    expect(synced.json.status).toBe('COMPLETED');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(synced.text).toBe(emu.jobs.statusJson(id));

    const slow = await submit(base, { input: { durationMs: 2000 } });
    const early = await call(`${base}/status-sync/${slow}?wait=60`, { method: 'POST' });
    expect(early.json.status).toMatch(/IN_QUEUE|IN_PROGRESS/);

    const sync = await call(`${base}/runsync`, { body: { input: { prompt: 'now' } } });
    expect(sync.json).toMatchObject({ status: 'COMPLETED', output: { text: 'now' } });
    expect(sync.text).toBe(emu.jobs.statusJson(String(sync.json.id)));

    const notYet = await call(`${base}/runsync?wait=80`, { body: { input: { durationMs: 2000 } } });
    expect(Object.keys(notYet.json).sort()).toEqual(['id', 'status']);
    expect(notYet.json.status).toMatch(/IN_QUEUE|IN_PROGRESS/);
  });

  it('answers 429 over a rate limit and over a concurrency limit', async () => {
    const emu = await start({ rateLimitScale: 0.005 }); // run: 5 per 10 s, purge-queue: 1 per 10 s
    const base = emu.baseUrlFor('ep');
    const purges = [];
    for (let i = 0; i < 2; i++) purges.push((await call(`${base}/purge-queue`, { method: 'POST' })).status);
    expect(purges).toEqual([200, 429]);
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push((await call(`${base}/run`, { body: { input: {} } })).status);
    expect(runs).toEqual([200, 200, 200, 200, 200, 429]);
    expect(emu.stats.rateLimited).toMatchObject({ purge: 1, run: 1 });
    expect((await call(`${emu.baseUrlFor('other')}/purge-queue`, { method: 'POST' })).status).toBe(200);

    const narrow = await start({ rateLimits: { runsync: { limit: 100, concurrent: 1 } } });
    const nb = narrow.baseUrlFor('ep');
    const longSync = call(`${nb}/runsync`, { body: { input: { durationMs: 300 } } });
    await eventually(async () => (narrow.jobs.size > 0 ? true : undefined));
    const refused = await call(`${nb}/runsync`, { body: { input: {} } });
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('concurrency');
    expect((await longSync).status).toBe(200);
    expect((await call(`${nb}/runsync`, { body: { input: {} } })).status).toBe(200);
    expect(narrow.stats.tooManyRequests).toBe(1);
  });

  it('answers 429 when the queue holds more than 50 jobs and more than WorkersMax × 500', async () => {
    const emu = await start({
      rateLimitsEnabled: false,
      endpoints: { full: { workers: 0, workersMax: 0 }, roomy: { workers: 0, workersMax: 1 } },
    });
    for (const name of ['full', 'roomy']) {
      const base = emu.baseUrlFor(name);
      for (let i = 0; i < 51; i++) await submit(base, { input: {} });
    }
    expect((await call(`${emu.baseUrlFor('full')}/run`, { body: { input: {} } })).status).toBe(429);
    expect((await call(`${emu.baseUrlFor('full')}/runsync`, { body: { input: {} } })).status).toBe(429);
    expect((await call(`${emu.baseUrlFor('roomy')}/run`, { body: { input: {} } })).status).toBe(200);
    expect(emu.stats.queueFull).toBe(2);
  });

  it('logs requests and stops cleanly', async () => {
    const emu = await start();
    const base = emu.baseUrlFor('ep', 'sl');
    await call(`${base}/health`);
    const log = await call(`${base}/requests`);
    expect(log.status).toBe(200);
    expect((log.json.requests as Json[])[0]).toMatchObject({ operation: 'health', httpStatus: 200 });
    const pending = await submit(base, { input: { durationMs: 5000 } });
    expect(pending).toBeTruthy();
    await emu.stop();
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  });

  it('logs the job a lost /run created, and whose callback it carries, so reconcile can be practised', async () => {
    const emu = await start({ faults: { lostResponse: { run: 1 }, serverErrorStatuses: [502] } });
    const base = emu.baseUrlFor('ep');
    const webhook = 'http://127.0.0.1:9/webhooks/01M8MBK7CZYSBNNNQ4WA2P5V5X/sekret-callback-token';
    const lost = await call(`${base}/run`, { body: { input: {}, webhook } });
    expect(lost.status).toBe(502);
    const log = await call(`${base}/requests`);
    const entry = (log.json.requests as Json[]).find((r) => r.operation === 'run');
    expect(entry).toMatchObject({ httpStatus: 502, webhookJobId: '01M8MBK7CZYSBNNNQ4WA2P5V5X' });
    expect(typeof entry?.jobId).toBe('string');
    // That id is the upstream job the lost answer would have named.
    expect((await call(`${base}/status/${entry?.jobId}`)).status).toBe(200);
    expect(log.text).not.toContain('sekret-callback-token');
  });

  it('npm run emulator -- --help shows each flag with its default and both URL styles', async () => {
    const main = new URL('../../local/emulator/main.ts', import.meta.url).pathname;
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          out += c.toString();
        });
        child.on('close', (code) => done({ code, out }));
      });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--port\s+int\s+\[EMULATOR_PORT\]\s+8765/);
    expect(help.out).toMatch(/--api-key\s+string\s+\[EMULATOR_API_KEY\]\s+emulator-api-key/);
    expect(help.out).toMatch(/--retention-ms\s+int\s+\[EMULATOR_RETENTION_MS\]\s+1800000/);
    expect(help.out).toContain('/api/v1/sl/<endpoint id>');
    const bogus = await run(['--bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.out).toContain('unknown option --bogus\n  see: npm run emulator -- --help');
  });

  it('keeps its jobs in a state file across a restart: finished ones as they were, running ones again', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'emulator-state-'));
    const stateFile = join(folder, 'emulator-jobs.json');
    try {
      const first = await startEmulator({ apiKey: KEY, jobDurationMs: 20, startDelayMs: 0, stateFile });
      const done = await submit(first.baseUrlFor('ep'), { input: { prompt: 'kept' } });
      await first.jobs.waitFor(done, 'COMPLETED');
      const before = await call(`${first.baseUrlFor('ep')}/status/${done}`);
      const running = await submit(first.baseUrlFor('ep'), {
        input: { handler: 'slow', durationMs: 60_000 },
      });
      await first.jobs.waitFor(running, 'IN_PROGRESS');
      await first.stop();

      const second = await start({ stateFile });
      expect(second.restored).toBe(2);
      const after = await call(`${second.baseUrlFor('ep')}/status/${done}`);
      expect(after.status).toBe(200);
      expect(after.text).toBe(before.text);
      const again = await call(`${second.baseUrlFor('ep')}/status/${running}`);
      expect(again.status).toBe(200);
      expect(['IN_QUEUE', 'IN_PROGRESS']).toContain(again.json.status);
      expect((await call(`${second.baseUrlFor('other')}/status/${done}`)).status).toBe(404);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
