// Forged, replayed and misdirected webhooks at the handler: refused, counted, and nothing is stored.

import { ulid } from 'ulid';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import type { UpstreamStatus } from '../../../functions/schemas/upstream.ts';
import { handler } from '../../../functions/webhook/handler.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

/** pendingJob with a real ULID: the shared counter-based ids stop being valid ULIDs after a few dozen. */
const job = (overrides: Parameters<typeof pendingJob>[0] = {}) => pendingJob({ jobId: ulid(), ...overrides });

const completed = (id: string, output: unknown): UpstreamStatus => ({
  id,
  status: 'COMPLETED',
  delayTime: 10,
  executionTime: 20,
  output,
});

describe('webhook forgery', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    setRuntime(deps);
  });
  afterEach(() => setRuntime(undefined));

  const deliver = (jobId: string, token: string, body: unknown) =>
    handler(
      httpEvent({
        routeKey: 'POST /webhooks/{jobId}/{token}',
        path: `/webhooks/${jobId}/${token}`,
        pathParameters: { jobId, token },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    ).then(parseResult);

  async function twoJobs() {
    const a = job({ upstreamId: 'up-a' });
    const b = job({ upstreamId: 'up-b' });
    await deps.jobs.create(a);
    await deps.jobs.create(b);
    await deps.jobs.linkUpstream('default', 'up-a', a.jobId);
    await deps.jobs.linkUpstream('default', 'up-b', b.jobId);
    return { a, b, tokenA: signWebhookToken(WEBHOOK_SECRET, a.jobId) };
  }

  it.each([
    ['a token signed with another secret', (id: string) => signWebhookToken('x'.repeat(40), id), 'a'],
    ["another job's token", (_: string, other: string) => signWebhookToken(WEBHOOK_SECRET, other), 'a'],
    ['a truncated token', (id: string) => signWebhookToken(WEBHOOK_SECRET, id).slice(0, 42), 'a'],
    ['a padded token', (id: string) => `${signWebhookToken(WEBHOOK_SECRET, id)}A`, 'a'],
    ['a base64-padded token', (id: string) => `${signWebhookToken(WEBHOOK_SECRET, id)}=`, 'a'],
    [
      'a token with one character changed',
      (id: string) => flipLast(signWebhookToken(WEBHOOK_SECRET, id)),
      'a',
    ],
    ['an empty token', () => '', 'a'],
    ['a token with a path in it', (id: string) => `${signWebhookToken(WEBHOOK_SECRET, id)}/x`, 'a'],
    [
      'a valid token replayed to another job id',
      (_: string, other: string) => signWebhookToken(WEBHOOK_SECRET, other),
      'b-token-on-a',
    ],
  ])('refuses %s with 401, counts it and stores nothing', async (_, tokenFor) => {
    const { a, b } = await twoJobs();
    const before = structuredClone([...deps.jobs.jobs.values()]);
    const res = await deliver(a.jobId, tokenFor(a.jobId, b.jobId), completed('up-a', { text: 'forged' }));
    expect(res.status).toBe(401);
    expect(res.json?.error.code).toBe('WEBHOOK_UNAUTHORIZED');
    expect(JSON.stringify(res.json)).not.toContain(signWebhookToken(WEBHOOK_SECRET, a.jobId));
    expect(deps.metrics.get('WebhooksRejected')).toBe(1);
    expect([...deps.jobs.jobs.values()]).toEqual(before);
    expect(deps.jobs.events).toEqual([]);
    expect(deps.archive.puts).toBe(0);
    expect(deps.upstream.calls).toEqual([]);
  });

  it('refuses a job id in another case or form than the one the token signs', async () => {
    const { a, tokenA } = await twoJobs();
    for (const jobId of [a.jobId.toLowerCase(), `${a.jobId} `, `${a.jobId}0`, a.jobId.slice(1)]) {
      expect((await deliver(jobId, tokenA, completed('up-a', 'x'))).status).toBe(401);
    }
    expect(deps.metrics.get('WebhooksRejected')).toBe(4);
    expect(deps.archive.puts).toBe(0);
  });

  it("a body whose id is another job's is never archived from the body: /status of this job decides", async () => {
    const { a, b, tokenA } = await twoJobs();
    deps.upstream.statuses.set('up-a', { id: 'up-a', status: 'IN_PROGRESS' });
    deps.upstream.statuses.set('up-b', completed('up-b', { text: "b's result" }));

    const res = await deliver(a.jobId, tokenA, completed('up-b', { text: "b's result" }));

    expect(res.status).toBe(200);
    expect(res.json?.outcome).toBe('rescheduled');
    expect(deps.upstream.calls).toEqual([{ op: 'status', args: ['default', 'up-a'] }]);
    expect(deps.archive.puts).toBe(0);
    expect((await deps.jobs.get(a.jobId))?.state).toBe('PENDING');
    expect((await deps.jobs.get(b.jobId))?.state).toBe('PENDING');
    expect(deps.jobs.eventTypes(a.jobId)).toContain('webhook.unusable');
  });

  it('a SUBMITTING job never adopts an upstream id that belongs to another job', async () => {
    const { b } = await twoJobs();
    const a = job({ state: 'SUBMITTING', upstreamId: undefined, upstreamStatus: undefined });
    await deps.jobs.create(a);
    deps.upstream.statuses.set('up-b', completed('up-b', { text: "b's result" }));

    const res = await deliver(a.jobId, signWebhookToken(WEBHOOK_SECRET, a.jobId), completed('up-b', 'x'));

    expect(res.status).toBe(200);
    expect(res.json?.outcome).toBe('deferred');
    expect(deps.upstream.count('status')).toBe(0);
    expect(deps.archive.puts).toBe(0);
    expect((await deps.jobs.get(a.jobId))?.upstreamId).toBeUndefined();
    expect((await deps.jobs.get(b.jobId))?.state).toBe('PENDING');
  });

  it('a SUBMITTING job may still learn its own upstream id from a body, confirmed by /status', async () => {
    const a = job({ state: 'SUBMITTING', upstreamId: undefined, upstreamStatus: undefined });
    await deps.jobs.create(a);
    deps.upstream.statuses.set('up-new', completed('up-new', { text: 'ok' }));
    const res = await deliver(a.jobId, signWebhookToken(WEBHOOK_SECRET, a.jobId), completed('up-new', 'x'));
    expect(res.json?.outcome).toBe('archived');
    expect((await deps.jobs.get(a.jobId))?.upstreamId).toBe('up-new');
  });

  it('a body nested 100,000 deep with a valid token is a hint like any other, not a 500', async () => {
    const a = job({ upstreamId: 'up-a' });
    await deps.jobs.create(a);
    deps.upstream.statuses.set('up-a', completed('up-a', { text: 'real' }));
    const deep = `{"id":"up-a","status":"COMPLETED","output":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await deliver(a.jobId, signWebhookToken(WEBHOOK_SECRET, a.jobId), deep);
    expect(res.status).toBe(200);
    expect(res.json?.outcome).toBe('archived');
    const stored = deps.archive.json(`jobs/2026/11/29/${a.jobId}/result.json`) as { status: UpstreamStatus };
    expect(stored.status.output).toEqual({ text: 'real' });
  });
});

function flipLast(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -1)}${last}`;
}
