// The webhook handler reads its path parameters percent-decoded, like the other handlers (issue 14 item 13).
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler } from '../../../functions/webhook/handler.ts';
import { fixtureEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const body = readFileSync('test/fixtures/webhook/completed.json', 'utf8');
const encodeAll = (text: string) =>
  [...text].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');

describe('webhook handler path parameters', () => {
  let deps: TestDeps;
  let jobId: string;
  beforeEach(async () => {
    deps = testDeps();
    setRuntime(deps);
    const job = pendingJob({ upstreamId: JSON.parse(body).id });
    jobId = job.jobId;
    await deps.jobs.create(job);
    // The default policy confirms a body with /status before archiving it: the upstream holds the same status.
    deps.upstream.statuses.set(JSON.parse(body).id, JSON.parse(body));
  });
  afterEach(() => setRuntime(undefined));

  const deliver = (id: string, token: string) =>
    handler({
      ...fixtureEvent('post-webhook'),
      rawPath: `/webhooks/${id}/${token}`,
      pathParameters: { jobId: id, token },
      body,
    }).then(parseResult);

  it('accepts a callback whose id and token were percent-encoded on the way', async () => {
    const token = signWebhookToken(WEBHOOK_SECRET, jobId);
    const res = await deliver(encodeAll(jobId), encodeAll(token));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, outcome: 'archived' });
  });

  it('answers a malformed escape like a wrong token', async () => {
    const res = await deliver(`${jobId}%E0%A4%A`, 'abc');
    expect(res.status).toBe(401);
    expect(res.json?.error.code).toBe('WEBHOOK_UNAUTHORIZED');
  });
});
