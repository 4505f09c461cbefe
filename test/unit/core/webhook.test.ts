import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { UpstreamServerError, WebhookAuthError } from '../../../functions/core/errors.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const webhookBody = JSON.parse(readFileSync('test/fixtures/webhook/completed.json', 'utf8')) as Record<
  string,
  unknown
>;
const UP = webhookBody.id as string;

describe('receiveWebhook', () => {
  let deps: TestDeps;
  beforeEach(() => {
    // These cases are about reading bodies; the policies have their own suite (webhook-verification.test.ts).
    deps = testDeps({ WEBHOOK_VERIFICATION: 'trust' });
  });

  async function seed(overrides = {}) {
    const job = pendingJob({ upstreamId: UP, ...overrides });
    await deps.jobs.create(job);
    return { job, token: signWebhookToken(WEBHOOK_SECRET, job.jobId) };
  }
  const body = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  const JSON_TYPE = 'application/json';

  it('archives a final body that matches the job, without asking the upstream', async () => {
    const { job, token } = await seed();
    expect(
      await receiveWebhook(deps, {
        jobId: job.jobId,
        contentType: JSON_TYPE,
        token,
        body: body(webhookBody),
      }),
    ).toBe('archived');
    expect((await deps.jobs.get(job.jobId))?.captureSource).toBe('webhook');
    expect(deps.upstream.count('status')).toBe(0);
  });

  it('archives the status object as the upstream wrote it: same key order, delivery fields dropped', async () => {
    const { job, token } = await seed();
    const received = body(webhookBody);
    await receiveWebhook(deps, { jobId: job.jobId, contentType: JSON_TYPE, token, body: received });
    const stored = deps.archive.objects
      .get(`jobs/2026/11/29/${job.jobId}/result.as-delivered.json`)
      ?.body.toString();
    const { input: _input, webhook: _webhook, ...status } = webhookBody;
    expect(stored?.endsWith(`,"status":${JSON.stringify(status)}}\n`)).toBe(true);
    expect(Object.keys(status)).toEqual(['delayTime', 'executionTime', 'id', 'output', 'status']);
  });

  it('rejects a wrong token before reading anything, and counts it', async () => {
    const { job } = await seed();
    const other = await seed();
    await expect(
      receiveWebhook(deps, {
        jobId: job.jobId,
        token: other.token,
        body: body(webhookBody),
        contentType: JSON_TYPE,
      }),
    ).rejects.toThrow(WebhookAuthError);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual([]);
    expect(deps.metrics.get('WebhooksRejected')).toBe(1);
  });

  it.each([
    ['an empty body', ''],
    ['a null body', 'null'],
    ['malformed JSON', '{"id":'],
    ['a body without status', JSON.stringify({ id: UP })],
  ])('fetches /status for %s instead of guessing', async (_, raw) => {
    const { job, token } = await seed();
    deps.upstream.statuses.set(UP, { id: UP, status: 'COMPLETED', output: { text: 'from status' } });
    expect(
      await receiveWebhook(deps, { jobId: job.jobId, contentType: JSON_TYPE, token, body: body(raw) }),
    ).toBe('archived');
    expect(deps.upstream.count('status')).toBe(1);
    const doc = deps.archive.json(`jobs/2026/11/29/${job.jobId}/result.json`) as {
      status: { output: unknown };
    };
    expect(doc.status.output).toEqual({ text: 'from status' });
    expect(deps.jobs.eventTypes(job.jobId)).toContain('webhook.unusable');
  });

  it('never archives a body whose id belongs to another upstream job', async () => {
    const { job, token } = await seed();
    deps.upstream.statuses.set(UP, { id: UP, status: 'IN_PROGRESS' });
    const forged = { ...webhookBody, id: 'someone-elses-job', output: { text: 'forged' } };
    expect(
      await receiveWebhook(deps, { jobId: job.jobId, contentType: JSON_TYPE, token, body: body(forged) }),
    ).toBe('rescheduled');
    expect(deps.archive.puts).toBe(0);
    expect((await deps.jobs.get(job.jobId))?.state).toBe('PENDING');
  });

  it('reschedules on a body that is not final', async () => {
    const { job, token } = await seed();
    deps.upstream.statuses.set(UP, { id: UP, status: 'IN_PROGRESS' });
    expect(
      await receiveWebhook(deps, {
        jobId: job.jobId,
        contentType: JSON_TYPE,
        token,
        body: body({ id: UP, status: 'IN_PROGRESS' }),
      }),
    ).toBe('rescheduled');
  });

  it('with the deprecated STRICT_WEBHOOKS=true confirms every body with /status', async () => {
    deps = testDeps({ STRICT_WEBHOOKS: 'true' });
    const { job, token } = await seed();
    deps.upstream.statuses.set(UP, { id: UP, status: 'COMPLETED', output: { text: 'confirmed' } });
    expect(
      await receiveWebhook(deps, {
        jobId: job.jobId,
        contentType: JSON_TYPE,
        token,
        body: body(webhookBody),
      }),
    ).toBe('archived');
    expect(deps.upstream.count('status')).toBe(1);
  });

  it('records duplicates as audit events and answers normally', async () => {
    const { job, token } = await seed();
    await receiveWebhook(deps, { jobId: job.jobId, contentType: JSON_TYPE, token, body: body(webhookBody) });
    expect(
      await receiveWebhook(deps, {
        jobId: job.jobId,
        contentType: JSON_TYPE,
        token,
        body: body(webhookBody),
      }),
    ).toBe('duplicate');
    expect(deps.jobs.eventTypes(job.jobId)).toEqual([
      'webhook.received',
      'archived',
      'webhook.received',
      'webhook.duplicate',
    ]);
  });

  it('asks the sweeper to look now when /status fails after an unusable body', async () => {
    const { job, token } = await seed({ dueAt: deps.clock.now() + 600_000 });
    deps.upstream.statusImpl = async () => {
      throw new UpstreamServerError('status', 503);
    };
    expect(
      await receiveWebhook(deps, { jobId: job.jobId, contentType: JSON_TYPE, token, body: body('') }),
    ).toBe('deferred');
    expect((await deps.jobs.get(job.jobId))?.dueAt).toBe(deps.clock.now());
  });

  it('adopts the upstream id from the body when the webhook beats the /run answer, confirmed by /status', async () => {
    const { job, token } = await seed({ state: 'SUBMITTING', upstreamId: undefined });
    deps.upstream.statuses.set(UP, { id: UP, status: 'COMPLETED', output: { text: 'early' } });
    expect(
      await receiveWebhook(deps, {
        jobId: job.jobId,
        contentType: JSON_TYPE,
        token,
        body: body(webhookBody),
      }),
    ).toBe('archived');
    expect(await deps.jobs.get(job.jobId)).toMatchObject({ state: 'ARCHIVED', upstreamId: UP });
    expect(deps.upstream.count('status')).toBe(1);
  });
  it('keeps the upstream id from the body when /status fails for a job whose /run answer was lost', async () => {
    const { job, token } = await seed({ state: 'SUBMITTING', upstreamId: undefined, submitAmbiguous: true });
    deps.upstream.statusImpl = async () => {
      throw new UpstreamServerError('status', 503);
    };
    const delivery = { jobId: job.jobId, contentType: JSON_TYPE, token, body: body(webhookBody) };
    expect(await receiveWebhook(deps, delivery)).toBe('deferred');
    // Tied to the id, due now: the sweeper's look, not the body, decides what is archived.
    expect(await deps.jobs.get(job.jobId)).toMatchObject({
      state: 'PENDING',
      upstreamId: UP,
      dueAt: deps.clock.now(),
    });
    expect(await deps.jobs.findByUpstream(job.endpoint, UP)).toBe(job.jobId);
    deps.upstream.statusImpl = undefined;
    deps.upstream.statuses.set(UP, { id: UP, status: 'COMPLETED', output: { text: 'kept' } });
    await sweep(deps, { remainingMs: () => 60_000 });
    expect(await deps.jobs.get(job.jobId)).toMatchObject({ state: 'ARCHIVED', captureSource: 'sweeper' });
  });
});
