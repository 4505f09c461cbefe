// Callback tokens that rotate and expire, one refusal for every failed check, and bodies that must be JSON.
import { ulid } from 'ulid';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '../../../functions/config.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler } from '../../../functions/webhook/handler.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { TEST_ENV, type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const NEW_SECRET = 'rotated-webhook-secret-9876543210fedcba9876';
const HOUR = 3_600_000;
const RETENTION = 30 * 60_000;

describe('webhook tokens', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    setRuntime(deps);
  });
  afterEach(() => setRuntime(undefined));

  const post = (jobId: string, token: string, body: string | Buffer, contentType?: string) => {
    const event = httpEvent({
      routeKey: 'POST /webhooks/{jobId}/{token}',
      path: `/webhooks/${jobId}/${token}`,
      pathParameters: { jobId, token },
      body: Buffer.isBuffer(body) ? body.toString('base64') : body,
      headers: contentType === undefined ? {} : { 'content-type': contentType },
    });
    // The fixture event carries a Content-Type; a test that sends none must really send none.
    if (contentType === undefined) delete event.headers['content-type'];
    return handler({ ...event, isBase64Encoded: Buffer.isBuffer(body) });
  };
  const deliver = (jobId: string, token: string, body: unknown, contentType = 'application/json') =>
    post(jobId, token, typeof body === 'string' ? body : JSON.stringify(body), contentType).then(parseResult);

  async function seed(createdAtMs = deps.clock.now() - 60_000, overrides = {}) {
    const job = pendingJob({
      jobId: ulid(createdAtMs),
      createdAt: new Date(createdAtMs).toISOString(),
      ...overrides,
    });
    await deps.jobs.create(job);
    deps.upstream.statuses.set(job.upstreamId ?? '', {
      id: job.upstreamId ?? '',
      status: 'COMPLETED',
      output: 1,
    });
    return job;
  }
  const nothingStored = (before: unknown) => {
    expect([...deps.jobs.jobs.values()]).toEqual(before);
    expect(deps.jobs.events).toEqual([]);
    expect(deps.archive.puts).toBe(0);
    expect(deps.upstream.calls).toEqual([]);
  };
  const snapshot = () => structuredClone([...deps.jobs.jobs.values()]);
  const body = (upstreamId: string) => ({ id: upstreamId, status: 'COMPLETED', output: { forged: true } });

  it('answers every refused webhook with the same bytes, whichever check failed (F12)', async () => {
    const job = await seed();
    const old = await seed(deps.clock.now() - 25 * HOUR);
    const unknown = ulid(deps.clock.now() - 60_000);
    const answers = await Promise.all([
      post('not-a-ulid', signWebhookToken(WEBHOOK_SECRET, job.jobId), '{}', 'application/json'),
      post(job.jobId, signWebhookToken(NEW_SECRET, job.jobId), '{}', 'application/json'),
      post(job.jobId, 'A'.repeat(43), '{}', 'application/json'),
      post(old.jobId, signWebhookToken(WEBHOOK_SECRET, old.jobId), '{}', 'application/json'),
      post(unknown, signWebhookToken(WEBHOOK_SECRET, unknown), '{}', 'application/json'),
    ]);
    const shapes = answers.map((a) =>
      JSON.stringify({ status: a.statusCode, body: a.body, headers: a.headers }),
    );
    expect(new Set(shapes).size).toBe(1);
    expect(answers[0]?.statusCode).toBe(401);
    expect(JSON.parse(answers[0]?.body ?? '{}')).toEqual({
      error: {
        code: 'WEBHOOK_UNAUTHORIZED',
        message: 'Webhook token is not valid for this job',
        details: {},
      },
    });
    expect(deps.metrics.get('WebhooksRejected')).toBe(5);
  });

  describe('rotation', () => {
    it('accepts tokens of every configured secret and signs new ones with the first', async () => {
      const job = await seed();
      const other = await seed();
      deps.webhookSecret = async () => JSON.stringify([NEW_SECRET, WEBHOOK_SECRET]);
      expect(signWebhookToken(JSON.stringify([NEW_SECRET, WEBHOOK_SECRET]), job.jobId)).toBe(
        signWebhookToken(NEW_SECRET, job.jobId),
      );
      // In flight before the rotation: signed with the old secret.
      const inFlight = await deliver(
        job.jobId,
        signWebhookToken(WEBHOOK_SECRET, job.jobId),
        body(job.upstreamId ?? ''),
      );
      expect(inFlight.status).toBe(200);
      const fresh = await deliver(
        other.jobId,
        signWebhookToken(NEW_SECRET, other.jobId),
        body(other.upstreamId ?? ''),
      );
      expect(fresh.status).toBe(200);
    });

    it('refuses the old secret once it is dropped from the list', async () => {
      const job = await seed();
      deps.webhookSecret = async () => JSON.stringify([NEW_SECRET]);
      const before = snapshot();
      const res = await deliver(
        job.jobId,
        signWebhookToken(WEBHOOK_SECRET, job.jobId),
        body(job.upstreamId ?? ''),
      );
      expect(res.status).toBe(401);
      nothingStored(before);
    });

    it('reads a list from WEBHOOK_SECRET and refuses a list with a short or missing secret, naming it', () => {
      const list = JSON.stringify([NEW_SECRET, WEBHOOK_SECRET]);
      expect(parseConfig({ ...TEST_ENV, WEBHOOK_SECRET: list }).WEBHOOK_SECRET).toBe(list);
      for (const bad of [JSON.stringify([NEW_SECRET, 'short']), '[]', JSON.stringify([42])])
        expect(() => parseConfig({ ...TEST_ENV, WEBHOOK_SECRET: bad })).toThrow(/WEBHOOK_SECRET/);
      expect(() => signWebhookToken('[]', 'x')).toThrow(ConfigError);
    });
  });

  describe('expiry', () => {
    it("refuses a token once its job's ttl and the retention window have passed, storing nothing", async () => {
      const created = deps.clock.now();
      const job = await seed(created, { policy: { ttl: 60_000 } });
      const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
      deps.clock.ms = created + 60_000 + RETENTION + 1;
      const before = snapshot();
      expect((await deliver(job.jobId, token, body(job.upstreamId ?? ''))).status).toBe(401);
      nothingStored(before);
      deps.clock.ms = created + 60_000 + RETENTION;
      expect((await deliver(job.jobId, token, body(job.upstreamId ?? ''))).status).toBe(200);
    });

    it('uses the upstream default job life of 24 h when the job set no ttl', async () => {
      const created = deps.clock.now();
      const job = await seed(created);
      const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
      deps.clock.ms = created + 24 * HOUR + RETENTION + 1;
      expect((await deliver(job.jobId, token, body(job.upstreamId ?? ''))).status).toBe(401);
    });

    it('refuses a token older than the longest job life from its ULID alone, without reading the table', async () => {
      const job = await seed(deps.clock.now() - 8 * 24 * HOUR, { policy: { ttl: 7 * 24 * HOUR } });
      const get = vi.spyOn(deps.jobs, 'get');
      const res = await deliver(
        job.jobId,
        signWebhookToken(WEBHOOK_SECRET, job.jobId),
        body(job.upstreamId ?? ''),
      );
      expect(res.status).toBe(401);
      expect(get).not.toHaveBeenCalled();
    });
  });

  describe('bodies', () => {
    it.each([
      ['text/plain', 'text/plain'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['HTML', 'text/html; charset=utf-8'],
      ['a JSON look-alike', 'application/jsonp'],
      ['no content type', undefined],
    ])('refuses %s with 415 and stores nothing (F1)', async (_, type) => {
      const job = await seed();
      const before = snapshot();
      const res = await post(
        job.jobId,
        signWebhookToken(WEBHOOK_SECRET, job.jobId),
        JSON.stringify(body(job.upstreamId ?? '')),
        type,
      ).then(parseResult);
      expect(res.status).toBe(415);
      expect(res.json?.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      nothingStored(before);
    });

    it('refuses a body that is not valid UTF-8 with 400 and stores nothing (F1)', async () => {
      const job = await seed();
      const before = snapshot();
      const json = Buffer.from(`{"id":"${job.upstreamId}","status":"COMPLETED","output":"`);
      const bad = Buffer.concat([json, Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
      const res = await post(
        job.jobId,
        signWebhookToken(WEBHOOK_SECRET, job.jobId),
        bad,
        'application/json',
      ).then(parseResult);
      expect(res.status).toBe(400);
      expect(res.json?.error.code).toBe('INVALID_ENCODING');
      nothingStored(before);
    });

    it.each([
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'application/cloudevents+json',
    ])('accepts %s', async (type) => {
      const job = await seed();
      const res = await deliver(
        job.jobId,
        signWebhookToken(WEBHOOK_SECRET, job.jobId),
        body(job.upstreamId ?? ''),
        type,
      );
      expect(res.status).toBe(200);
    });

    it('an empty body needs no content type: it is no body, and /status is asked', async () => {
      const job = await seed();
      const res = await post(job.jobId, signWebhookToken(WEBHOOK_SECRET, job.jobId), '', undefined).then(
        parseResult,
      );
      expect(res.status).toBe(200);
      expect(res.json?.outcome).toBe('archived');
      expect(deps.upstream.count('status')).toBe(1);
    });
  });
});
