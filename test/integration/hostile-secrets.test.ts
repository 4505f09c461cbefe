// Secrets stay secret: API key, webhook secret, job tokens and the bearer token never reach logs, answers or the archive.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookToken } from '../../functions/core/webhook-token.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers loosely and asserts on them
type Json = any;

/** Every 16-character window of a secret: a log line holding most of a token leaks it as surely as all of it. */
const windows = (secret: string, size = 16) =>
  Array.from({ length: Math.max(1, secret.length - size + 1) }, (_, i) => secret.slice(i, i + size));

describe('secrets never logged, answered or archived', () => {
  let stack: LocalStack;
  let dataDir: string;
  let webhookSecret: string;
  const apiKey = `sk_live_${randomBytes(24).toString('hex')}`;
  const bearer = `client-${randomBytes(24).toString('base64url')}`;
  const logLines: string[] = [];
  const answers: string[] = [];
  const published: string[] = [];
  const jobIds: string[] = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };

  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body }),
      redirect: 'manual',
    });
    const text = await res.text();
    answers.push(text);
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const submit = async (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '/jobs', JSON.stringify({ input, ...extra }));
    if (res.json?.job?.jobId) jobIds.push(res.json.job.jobId);
    return res;
  };
  const tokenOf = (jobId: string) => signWebhookToken(webhookSecret, jobId);

  async function settle(jobId: string): Promise<Json> {
    // A cap, not a speed target: a loaded machine may take a while, a stuck job never settles.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const seen = (await call('GET', `/jobs/${jobId}`)).json;
      if (['ARCHIVED', 'REJECTED', 'EXPIRED'].includes(seen?.job?.state)) return seen;
      if (Date.now() > deadline) throw new Error(`job ${jobId} not settled: ${JSON.stringify(seen?.job)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    // The runtime's JsonLogger writes to process.stdout when it logs, so the test reads what it writes there.
    const capture = (chunk: unknown) => {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-secrets-'));
    stack = await startLocalStack({
      port: 0,
      dataDir,
      dynamoInMemory: true,
      authToken: bearer,
      sweepIntervalMs: 250,
      emulator: {
        apiKey,
        jobDurationMs: 50,
        startDelayMs: 5,
        webhookRetryDelayMs: 200,
        webhookTimeoutMs: 2000,
        maxRunBodyBytes: 4096,
      },
      config: {
        LOG_LEVEL: 'debug',
        FIRST_LOOK_MS: '1000',
        LOOK_INTERVAL_MS: '300',
        NOT_FOUND_GRACE_MS: '500',
        ARTIFACTS_FETCH_URLS: 'true',
        ARTIFACT_FETCH_TIMEOUT_MS: '2000',
      },
      onEvent: (type, detail) => published.push(JSON.stringify({ type, detail })),
    });
    webhookSecret = await stack.runtime.webhookSecret();
  });

  afterAll(async () => {
    await stack?.stop();
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs jobs, forgeries and errors, and no secret shows up anywhere', async () => {
    // The client API wants the bearer token; the answers say nothing about it.
    expect((await call('GET', '/jobs', undefined, { authorization: '' })).status).toBe(401);
    expect((await call('GET', '/jobs', undefined, { authorization: 'Bearer wrong-token' })).status).toBe(403);

    // Legitimate work: webhook captures, a dropped webhook (sweeper), a failure, runsync, images, URLs.
    await submit({ prompt: 'hello' });
    await submit({ handler: 'image-base64' });
    await submit({ handler: 'image-url', count: 1 });
    await submit({ handler: 'fail', message: 'boom' });
    await submit({ prompt: 'dropped', _emulator: { webhook: { drop: true } } });
    await submit({ prompt: 'sync' }, { sync: true });
    const running = await submit({ handler: 'slow', durationMs: 600_000 });
    const runningId: string = running.json.job.jobId;

    // Forged and misdirected webhooks.
    const real = tokenOf(runningId);
    const forgedBody = JSON.stringify({ id: 'someone-else', status: 'COMPLETED', output: { x: 1 } });
    for (const token of [
      real.slice(0, 42),
      `${real}A`,
      real.toLowerCase(),
      tokenOf(jobIds[0] ?? ''),
      'x'.repeat(43),
    ])
      expect((await call('POST', `/webhooks/${runningId}/${token}`, forgedBody)).status).toBe(401);
    expect((await call('POST', `/webhooks/${jobIds[0]}/${real}`, forgedBody)).status).toBe(401);
    expect((await call('POST', `/webhooks/${runningId}/${real}`, forgedBody)).status).toBe(200);
    const deep = `{"id":"x","status":"COMPLETED","output":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    expect((await call('POST', `/webhooks/${runningId}/${real}`, deep)).status).toBe(200);

    // Errors of every kind.
    expect((await call('POST', '/jobs', '{"input":')).status).toBe(400);
    expect((await call('POST', '/jobs', JSON.stringify({ input: { p: 'x'.repeat(5000) } }))).status).toBe(
      422,
    );
    expect((await call('POST', '/jobs/track', JSON.stringify({ upstreamId: 'no-such-job' }))).status).toBe(
      404,
    );
    expect((await call('GET', '/jobs/01JDXKQ5N8Y3V7M2R6T4W9Z0AB')).status).toBe(404);
    expect((await call('GET', '/jobs/%25E0%25A4%25A')).status).toBe(400);

    // Let everything settle, then read every archived object back through its presigned URL.
    const archived: string[] = [];
    for (const jobId of jobIds.filter((id) => id !== runningId)) {
      const seen = await settle(jobId);
      const links = seen.links ?? {};
      const urls = [links.input, links.result, ...(links.artifacts ?? []).map((a: Json) => a.url)];
      for (const url of urls.filter(Boolean))
        archived.push(Buffer.from(await (await fetch(url)).arrayBuffer()).toString('latin1'));
    }
    expect((await call('POST', `/jobs/${jobIds[0]}/cancel`)).status).toBe(409);
    const answered = (await call('POST', `/jobs/${runningId}/cancel`)).json.job;
    // Captured at once when the status after the cancel answers in time; otherwise the sweeper's look does it.
    const cancelled = answered.state === 'ARCHIVED' ? answered : (await settle(runningId)).job;
    expect(cancelled.state).toBe('ARCHIVED');
    expect(cancelled.upstreamStatus).toBe('CANCELLED');
    const events = (
      await Promise.all(jobIds.map(async (id) => (await call('GET', `/jobs/${id}`)).text))
    ).join('\n');

    // The capture worked: the archiver logged at debug level, errors included.
    const ours = logLines.filter((line) => line.includes('"service":"submodel-archiver"'));
    expect(ours.some((line) => line.includes('WEBHOOK_UNAUTHORIZED'))).toBe(true);
    expect(ours.some((line) => line.includes('job archived'))).toBe(true);
    expect(archived.length).toBeGreaterThanOrEqual(jobIds.length * 2 - 1);
    expect(published.length).toBeGreaterThan(0);

    const secrets: Record<string, string> = {
      'API key': apiKey,
      'webhook secret': webhookSecret,
      'bearer token': bearer,
      ...Object.fromEntries(jobIds.map((id) => [`token of ${id}`, tokenOf(id)])),
    };
    const places: Record<string, string> = {
      logs: logLines.join('\n'),
      answers: answers.join('\n'),
      archive: archived.join('\n'),
      'audit trail': events,
      'published events': published.join('\n'),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      for (const [where, text] of Object.entries(places)) {
        const leaked = windows(secret).find((piece) => text.includes(piece));
        expect(leaked, `${what} found in ${where}`).toBeUndefined();
      }
    }
  });
});
