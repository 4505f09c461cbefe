import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler } from '../../../functions/webhook/handler.ts';
import { fixtureEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const body = readFileSync('test/fixtures/webhook/completed.json', 'utf8');

describe('webhook handler', () => {
  let deps: TestDeps;
  let jobId: string;
  beforeEach(async () => {
    deps = testDeps();
    setRuntime(deps);
    const job = pendingJob({ upstreamId: JSON.parse(body).id });
    jobId = job.jobId;
    await deps.jobs.create(job);
  });
  afterEach(() => setRuntime(undefined));

  const deliver = (id: string, token: string, payload = body) => {
    const event = fixtureEvent('post-webhook');
    return handler({
      ...event,
      rawPath: `/webhooks/${id}/${token}`,
      pathParameters: { jobId: id, token },
      body: payload,
    }).then(parseResult);
  };

  it('archives a delivery as the real service sends it and answers 200', async () => {
    // Strict by default: the body is confirmed with /status before it is archived.
    const { input: _input, webhook: _webhook, ...status } = JSON.parse(body);
    deps.upstream.statuses.set(status.id, status);
    const res = await deliver(jobId, signWebhookToken(WEBHOOK_SECRET, jobId));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, outcome: 'archived' });
  });

  it.each([
    // Another job's id: changing the last character to a fixed one would sign this very id when it ends in it.
    [
      'a wrong token',
      (id: string) => signWebhookToken(WEBHOOK_SECRET, `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`),
    ],
    ['a truncated token', (id: string) => signWebhookToken(WEBHOOK_SECRET, id).slice(0, 20)],
    ['a token with path characters', () => '..%2F..'],
  ])('answers %s with 401 and stores nothing', async (_, token) => {
    const res = await deliver(jobId, token(jobId));
    expect(res.status).toBe(401);
    expect(res.json?.error.code).toBe('WEBHOOK_UNAUTHORIZED');
    expect(deps.archive.puts).toBe(0);
    expect(deps.jobs.events).toEqual([]);
  });

  it('answers a malformed job id like a bad token', async () => {
    const res = await deliver('not-a-job', 'abc');
    expect(res.status).toBe(401);
  });
});
