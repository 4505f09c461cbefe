// Webhook trust over real HTTP: provenance under each policy, rotated secrets, one refusal, JSON-only bodies.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookToken } from '../../functions/core/webhook-token.ts';
import { startLocalStack } from '../../local/stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers loosely and asserts on them
type Json = any;

const OLD_SECRET = 'the-secret-before-the-rotation-0123456789ab';
const NEW_SECRET = 'the-secret-after-the-rotation-ba9876543210';
const pause = () => new Promise((resolve) => setTimeout(resolve, 50));

/** A local stack whose sweeper runs only when a test says so, and a small client for it. */
async function hostileStack(dataDir: string, config: Record<string, string>) {
  const published: Array<{ type: string; detail: Json }> = [];
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoInMemory: true,
    sweepIntervalMs: 3_600_000,
    emulator: { jobDurationMs: 30, startDelayMs: 5, webhookRetryDelayMs: 200, webhookTimeoutMs: 2000 },
    config: { FIRST_LOOK_MS: '3600000', LOOK_INTERVAL_MS: '3600000', LOG_LEVEL: 'silent', ...config },
    onEvent: (type, detail) => published.push({ type, detail }),
  });
  const call = async (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${stack.url}${path}`, { method, headers, ...(body !== undefined && { body }) });
    const text = await res.text();
    let json: Json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  const submit = async (input: Json) =>
    (await call('POST', '/jobs', JSON.stringify({ input }), { 'content-type': 'application/json' })).json.job;
  const view = async (jobId: string) => (await call('GET', `/jobs/${jobId}`)).json;
  /** Resolves once the emulator has finished the job (its webhook, if any, is then on its way or dropped). */
  const finishedUpstream = async (upstreamId: string) => {
    while (!/"status":"(COMPLETED|FAILED)"/.test(stack.emulator?.jobs.statusJson(upstreamId) ?? ''))
      await pause();
  };
  const until = async (jobId: string, done: (seen: Json) => boolean) => {
    for (let seen = await view(jobId); ; seen = await view(jobId)) {
      if (done(seen)) return seen;
      await pause();
    }
  };
  const resultDoc = async (seen: Json) => (await fetch(seen.links.result)).json() as Promise<Json>;
  return { stack, call, submit, view, finishedUpstream, until, resultDoc, published };
}

describe('webhook trust against the local stack (default policy, rotated secrets)', () => {
  let dataDir: string;
  let s: Awaited<ReturnType<typeof hostileStack>>;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-trust-'));
    s = await hostileStack(dataDir, { WEBHOOK_SECRET: JSON.stringify([NEW_SECRET, OLD_SECRET]) });
  });
  afterAll(async () => {
    await s?.stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a forged final body with the real token and id is not what gets archived (F1)', async () => {
    const job = await s.submit({ prompt: 'real', _emulator: { webhook: { drop: true } } });
    await s.finishedUpstream(job.upstreamId);
    const token = signWebhookToken(NEW_SECRET, job.jobId);
    const forged = JSON.stringify({ id: job.upstreamId, status: 'COMPLETED', output: { text: 'forged' } });
    const res = await s.call('POST', `/webhooks/${job.jobId}/${token}`, forged, {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    const seen = await s.view(job.jobId);
    expect(seen.job).toMatchObject({ state: 'ARCHIVED', provenance: 'verified' });
    const doc = await s.resultDoc(seen);
    expect(doc.archive.provenance).toBe('verified');
    expect(JSON.stringify(doc.status.output)).toBe(s.stack.emulator?.jobs.outputJson(job.upstreamId));
    expect(JSON.stringify(doc)).not.toContain('forged');
  });

  it('jobs signed with the new secret are captured from their own webhooks; old tokens still work', async () => {
    const fresh = await s.submit({ prompt: 'after the rotation' });
    const archived = await s.until(fresh.jobId, (seen) => seen.job.state === 'ARCHIVED');
    expect(archived.job.captureSource).toBe('webhook');

    // A job whose callback URL was handed out before the rotation (signed with the old secret).
    const inFlight = await s.submit({
      prompt: 'before the rotation',
      _emulator: { webhook: { drop: true } },
    });
    await s.finishedUpstream(inFlight.upstreamId);
    const oldToken = signWebhookToken(OLD_SECRET, inFlight.jobId);
    const res = await s.call('POST', `/webhooks/${inFlight.jobId}/${oldToken}`, '', {});
    expect(res.json).toEqual({ received: true, outcome: 'archived' });
  });

  it('refuses non-JSON and non-UTF-8 bodies before storing anything, then still archives', async () => {
    const job = await s.submit({ prompt: 'bodies', _emulator: { webhook: { drop: true } } });
    await s.finishedUpstream(job.upstreamId);
    const url = `/webhooks/${job.jobId}/${signWebhookToken(NEW_SECRET, job.jobId)}`;
    const before = await s.view(job.jobId);
    const body = JSON.stringify({ id: job.upstreamId, status: 'COMPLETED', output: 'x' });
    const plain = await s.call('POST', url, body, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    const latin1 = Buffer.from(
      `{"id":"${job.upstreamId}","status":"COMPLETED","output":"caf\u00e9"}`,
      'latin1',
    );
    const broken = await s.call('POST', url, latin1, { 'content-type': 'application/json' });
    expect(broken.status).toBe(400);
    const after = await s.view(job.jobId);
    // Every read of a job audits the links it issued: the trail's own lines, not a trace of the refused bodies.
    const trail = (view: { events: { type: string }[] }) =>
      view.events.filter((e) => e.type !== 'links.issued');
    expect({ job: after.job, events: trail(after) }).toEqual({ job: before.job, events: trail(before) });
    const ok = await s.call('POST', url, body, { 'content-type': 'application/json; charset=utf-8' });
    expect(ok.json.outcome).toBe('archived');
  });

  it('answers every refused webhook with the same bytes (F12)', async () => {
    const job = await s.submit({ prompt: 'refusals', _emulator: { webhook: { drop: true } } });
    const json = { 'content-type': 'application/json' };
    const answers = await Promise.all([
      s.call('POST', `/webhooks/${job.jobId}/${'A'.repeat(43)}`, '{}', json),
      s.call('POST', `/webhooks/${job.jobId}/${signWebhookToken('x'.repeat(40), job.jobId)}`, '{}', json),
      s.call('POST', `/webhooks/not-a-job/${signWebhookToken(NEW_SECRET, 'not-a-job')}`, '{}', json),
      s.call(
        'POST',
        `/webhooks/01ARZ3NDEKTSV4RRFFQ69G5FAV/${signWebhookToken(NEW_SECRET, '01ARZ3NDEKTSV4RRFFQ69G5FAV')}`,
        '{}',
        json,
      ),
    ]);
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401]);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0]?.json.error.details).toEqual({});
  });
});

describe('background verification against the local stack', () => {
  let dataDir: string;
  let s: Awaited<ReturnType<typeof hostileStack>>;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-trust-bg-'));
    s = await hostileStack(dataDir, { WEBHOOK_VERIFICATION: 'background', VERIFY_AFTER_MS: '0' });
  });
  afterAll(async () => {
    await s?.stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('archives the real webhook as delivered, then one sweep confirms it', async () => {
    const job = await s.submit({ prompt: 'genuine' });
    const delivered = await s.until(job.jobId, (seen) => seen.job.state === 'ARCHIVED');
    expect(delivered.job).toMatchObject({ provenance: 'as-delivered', captureSource: 'webhook' });
    expect((await s.resultDoc(delivered)).archive.provenance).toBe('as-delivered');
    await s.until(job.jobId, (seen) => seen.job.verifyDueAt !== undefined);
    await s.stack.sweeper.runNow();
    const confirmed = await s.view(job.jobId);
    expect(confirmed.job).toMatchObject({ provenance: 'as-delivered', verification: 'confirmed' });
    expect(s.published.filter((e) => e.detail.jobId === job.jobId).map((e) => e.type)).toEqual([
      'Job Archived',
      'Job Verified',
    ]);
  });

  it('a forged body is archived at once, then replaced by the /status result, kept as evidence, alarmed', async () => {
    const job = await s.submit({ prompt: 'genuine', _emulator: { webhook: { drop: true } } });
    await s.finishedUpstream(job.upstreamId);
    const token = signWebhookToken(await s.stack.runtime.webhookSecret(), job.jobId);
    const forged = JSON.stringify({ id: job.upstreamId, status: 'COMPLETED', output: { text: 'forged' } });
    const res = await s.call('POST', `/webhooks/${job.jobId}/${token}`, forged, {
      'content-type': 'application/json',
    });
    expect(res.json.outcome).toBe('archived');
    await s.until(job.jobId, (seen) => seen.job.verifyDueAt !== undefined);

    await s.stack.sweeper.runNow();
    const seen = await s.view(job.jobId);
    expect(seen.job).toMatchObject({ provenance: 'verified', verification: 'mismatch' });
    const doc = await s.resultDoc(seen);
    expect(doc.archive.provenance).toBe('verified');
    expect(JSON.stringify(doc.status.output)).toBe(s.stack.emulator?.jobs.outputJson(job.upstreamId));
    expect(seen.job.evidenceKey).toMatch(/result\.as-delivered\.json$/);
    expect(seen.events.map((e: Json) => e.type)).toContain('verification.mismatch');
    expect(s.stack.runtime.metrics.totals.get('VerificationMismatches')).toBe(1);
  });
});
