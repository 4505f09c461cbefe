// Every operation against a real local HTTP server: URL, method, auth, body, tolerant parsing, raw bytes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../../../../functions/adapters/upstream/index.ts';
import type { UpstreamClient } from '../../../../functions/core/upstream-port.ts';
import { type FakeUpstream, fixture, startFakeUpstream } from './fake-upstream.ts';

let upstream: FakeUpstream;
let client: UpstreamClient;
const keysAsked: string[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  client = createUpstreamClient({
    endpoints: {
      sl: `${upstream.origin}/api/v1/sl/inst-42`,
      submodel: `${upstream.origin}/v2/ep-sub`,
      runpod: `${upstream.origin}/v2/ep-rp/`,
    },
    apiKey: async (endpoint) => {
      keysAsked.push(endpoint);
      return `key-for-${endpoint}`;
    },
    retry: { maxAttempts: 1 },
  });
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.reset();
  keysAsked.length = 0;
});

function only() {
  expect(upstream.requests).toHaveLength(1);
  const [request] = upstream.requests;
  if (request === undefined) throw new Error('no request');
  return request;
}

describe('URL styles and auth', () => {
  it.each([
    ['sl', '/api/v1/sl/inst-42'],
    ['submodel', '/v2/ep-sub'],
    ['runpod', '/v2/ep-rp'],
  ])('endpoint %s: POST %s/run with Bearer key and JSON body', async (endpoint, prefix) => {
    upstream.reply({ body: fixture('run-in-queue.json') });
    const request = {
      input: { prompt: 'Your prompt' },
      webhook: 'https://archiver.example/webhooks/01J/tok',
      policy: { executionTimeout: 600_000, ttl: 86_400_000 },
    };
    const accepted = await client.run(endpoint, request);
    expect(accepted).toEqual({ id: 'eaebd6e7-6a92-4bb8-a911-f996ac5ea99d', status: 'IN_QUEUE' });
    const sent = only();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`${prefix}/run`);
    expect(sent.headers.authorization).toBe(`Bearer key-for-${endpoint}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual(request);
    expect(keysAsked).toEqual([endpoint]);
  });
});

describe('status', () => {
  it('GETs /status/{id} and returns the parsed object plus the exact bytes received', async () => {
    const bytes = fixture('status-completed-text.json');
    upstream.reply({ body: bytes });
    const fetched = await client.status('runpod', '60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1');
    const sent = only();
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe('/v2/ep-rp/status/60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1');
    expect(sent.headers.authorization).toBe('Bearer key-for-runpod');
    expect(sent.body).toBe('');
    expect(Buffer.concat([fetched.raw].flat()).equals(bytes)).toBe(true);
    expect(fetched.status).toEqual(JSON.parse(bytes.toString('utf8')));
    expect(fetched.status.output).toEqual({
      input_tokens: 22,
      output_tokens: 16,
      text: ["Hello! How can I assist you today?\nUSER: I'm having"],
    });
  });

  it('passes ?ttl=', async () => {
    upstream.reply({ body: fixture('status-completed-text.json') });
    await client.status('sl', 'abc', { ttlMs: 6000 });
    expect(only().path).toBe('/api/v1/sl/inst-42/status/abc?ttl=6000');
  });

  it('keeps unknown fields and an unknown state such as RUNNING', async () => {
    upstream.reply({ body: fixture('status-running-unknown-fields.json') });
    const { status } = await client.status('runpod', 'c80ffee4-f315-4e25-a146-0f3d98cf024b-u1');
    expect(status.status).toBe('RUNNING');
    expect(status).toMatchObject({
      started: true,
      progress: { step: 12, of: 30 },
      priority: 'low',
      retries: 0,
    });
  });

  it('keeps a FAILED error that is a string holding JSON, as the string', async () => {
    upstream.reply({ body: fixture('status-failed-error-json-string.json') });
    const { status } = await client.status('runpod', 'b8a4f7a2-7d55-4e0c-9a53-1c1d2f3e4a5b-u1');
    expect(status.status).toBe('FAILED');
    expect(typeof status.error).toBe('string');
    expect(JSON.parse(String(status.error))).toMatchObject({
      error_message: expect.stringContaining('CUDA'),
    });
  });

  it('accepts COMPLETED without output', async () => {
    upstream.reply({ body: fixture('status-completed-no-output.json') });
    const { status } = await client.status('runpod', '0c5d3e21-4b7a-4c11-9e0f-8a2b6c7d9e10-u1');
    expect(status.status).toBe('COMPLETED');
    expect('output' in status).toBe(false);
  });
});

describe('sync operations', () => {
  it('runSync POSTs /runsync?wait= and returns the status with its raw bytes', async () => {
    const bytes = fixture('runsync-completed-images.json');
    upstream.reply({ body: bytes });
    const fetched = await client.runSync('submodel', { input: { prompt: 'a cat' } }, { waitMs: 25_000 });
    const sent = only();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v2/ep-sub/runsync?wait=25000');
    expect(JSON.parse(sent.body)).toEqual({ input: { prompt: 'a cat' } });
    expect(Buffer.concat([fetched.raw].flat()).equals(bytes)).toBe(true);
    expect(fetched.status.output).toEqual([
      { image: expect.stringMatching(/^https:\/\/.+X-Amz-Signature=/), seed: 46578 },
    ]);
  });

  it('runSync without a wait sends no ?wait= and clamps a wait outside 1 s .. 300 s', async () => {
    upstream.reply({ body: fixture('run-in-queue.json') }, { body: fixture('run-in-queue.json') });
    await client.runSync('runpod', { input: {} });
    await client.runSync('runpod', { input: {} }, { waitMs: 900_000 });
    expect(upstream.requests.map((r) => r.path)).toEqual([
      '/v2/ep-rp/runsync',
      '/v2/ep-rp/runsync?wait=300000',
    ]);
  });

  it('statusSync GETs /status-sync/{id}?wait=', async () => {
    upstream.reply({ body: fixture('status-completed-text.json') });
    const fetched = await client.statusSync('sl', 'job-9', { waitMs: 2000 });
    const sent = only();
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe('/api/v1/sl/inst-42/status-sync/job-9?wait=2000');
    expect(fetched.status.status).toBe('COMPLETED');
  });
});

describe('other operations', () => {
  it('stream GETs /stream/{id}', async () => {
    upstream.reply({ body: fixture('stream-in-progress.json') });
    const stream = await client.stream('runpod', '00000000-0000-0000-0000-000000000000');
    expect(only()).toMatchObject({
      method: 'GET',
      path: '/v2/ep-rp/stream/00000000-0000-0000-0000-000000000000',
    });
    expect(stream).toMatchObject({
      status: 'IN_PROGRESS',
      delayTime: 1234,
      stream: [{ output: 'A partial' }],
    });
  });

  it('stream accepts the bare-array shape some docs show, as state UNKNOWN (not final)', async () => {
    upstream.reply({ body: fixture('stream-bare-array.json') });
    const stream = await client.stream('submodel', 'j');
    expect(stream.status).toBe('UNKNOWN');
    expect(stream.stream[0]).toMatchObject({ output: { text: [' How'] }, metrics: { stream_index: 2 } });
  });

  it('cancel POSTs /cancel/{id}', async () => {
    upstream.reply({ body: fixture('cancel-cancelled.json') });
    const status = await client.cancel('submodel', '724907fe-7bcc-4e42-998d-52cb93e1421f-u1');
    expect(only()).toMatchObject({
      method: 'POST',
      path: '/v2/ep-sub/cancel/724907fe-7bcc-4e42-998d-52cb93e1421f-u1',
    });
    expect(status.status).toBe('CANCELLED');
  });

  it('retry POSTs /retry/{id}', async () => {
    upstream.reply({ body: fixture('retry-in-queue.json') });
    const status = await client.retry('runpod', '60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1');
    expect(only()).toMatchObject({
      method: 'POST',
      path: '/v2/ep-rp/retry/60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1',
    });
    expect(status).toEqual({ id: '60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1', status: 'IN_QUEUE' });
  });

  it('purgeQueue POSTs /purge-queue', async () => {
    upstream.reply({ body: fixture('purge-queue.json') });
    expect(await client.purgeQueue('sl')).toEqual({ removed: 2, status: 'completed' });
    expect(only()).toMatchObject({ method: 'POST', path: '/api/v1/sl/inst-42/purge-queue', body: '' });
  });

  it('health GETs /health', async () => {
    upstream.reply({ body: fixture('health.json') });
    const health = await client.health('runpod');
    expect(only()).toMatchObject({ method: 'GET', path: '/v2/ep-rp/health' });
    expect(health).toEqual({
      jobs: { completed: 1, failed: 5, inProgress: 0, inQueue: 2, retried: 0 },
      workers: { idle: 0, running: 0 },
    });
  });
});
