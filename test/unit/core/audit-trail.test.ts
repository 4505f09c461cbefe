// A bounded audit trail: repeats past the first few are tallied on one item, and the trail is read in pages.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { audit, TALLY_KEEPS_FIRST } from '../../../functions/core/audit.ts';
import { FIRST_EVENTS_PAGE, getJobView, listJobEvents } from '../../../functions/core/results.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const body = readFileSync('test/fixtures/webhook/completed.json');
const UP = (JSON.parse(body.toString()) as { id: string }).id;

describe('a bounded audit trail', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('tallies duplicate webhooks on one item after the first few, however many arrive', async () => {
    const job = pendingJob({ upstreamId: UP });
    await deps.jobs.create(job);
    // The default policy confirms a body with /status before archiving it: the upstream holds the same status.
    deps.upstream.statuses.set(UP, JSON.parse(body.toString()));
    const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
    expect(
      await receiveWebhook(deps, { jobId: job.jobId, contentType: 'application/json', token, body }),
    ).toBe('archived');
    const afterFirst = deps.jobs.events.length;
    const duplicates = 300;
    for (let i = 0; i < duplicates; i++) {
      deps.clock.advance(1000);
      expect(
        await receiveWebhook(deps, { jobId: job.jobId, contentType: 'application/json', token, body }),
      ).toBe('duplicate');
    }
    // Each duplicate is a received and a duplicate event: only the first few of each become items.
    const items = deps.jobs.events.filter((e) => e.jobId === job.jobId);
    expect(items.filter((e) => e.type === 'webhook.duplicate')).toHaveLength(TALLY_KEEPS_FIRST);
    expect(items.length - afterFirst).toBeLessThanOrEqual(2 * TALLY_KEEPS_FIRST);

    const { events } = await listJobEvents(deps, job.jobId, { limit: 500 });
    const tally = events.find((e) => e.type === 'webhook.duplicate' && e.count !== undefined);
    expect(tally).toMatchObject({ count: duplicates, at: new Date(deps.clock.now()).toISOString() });
    expect(events.find((e) => e.type === 'webhook.received' && e.count)?.count).toBe(duplicates + 1);
  });

  it('shows no tally while it only repeats the events kept in full', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    for (let i = 0; i < TALLY_KEEPS_FIRST; i++) await audit(deps, job.jobId, 'capture.duplicate', 'sweeper');
    const { events } = await listJobEvents(deps, job.jobId, { limit: 100 });
    expect(events.map((e) => e.count)).toEqual(Array(TALLY_KEEPS_FIRST).fill(undefined));
  });

  it('does not count one event twice when its write is retried', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    const event = { jobId: job.jobId, at: '2026-11-29T12:00:00.000Z', type: 'links.issued' as const };
    expect(await deps.jobs.countEvent(event, 'e-1')).toBe(1);
    expect(await deps.jobs.countEvent(event, 'e-1')).toBe(1);
    expect(await deps.jobs.countEvent(event, 'e-2')).toBe(2);
  });

  it('serves a bounded first page with GET /jobs/{jobId}, and the rest page by page, each event once', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    const total = FIRST_EVENTS_PAGE * 2 + 7;
    for (let i = 0; i < total; i++) {
      deps.clock.advance(1);
      // Not a tallied type: every one is an event of its own.
      await audit(deps, job.jobId, 'artifact.failed', 'sweeper', { look: i });
    }
    const view = await getJobView(deps, job.jobId);
    expect(view.events).toHaveLength(FIRST_EVENTS_PAGE);
    expect(view.eventsCursor).toBeDefined();
    const seen = view.events.map((e) => e.detail?.look);
    let cursor = view.eventsCursor;
    while (cursor) {
      const page = await listJobEvents(deps, job.jobId, { limit: 60, cursor });
      expect(page.events.length).toBeLessThanOrEqual(60);
      // The view's own links.issued line comes after them.
      seen.push(...page.events.filter((e) => e.type === 'artifact.failed').map((e) => e.detail?.look));
      cursor = page.cursor;
    }
    expect(seen).toEqual([...Array(total).keys()]);
  });

  it('refuses a forged events cursor with 400 INVALID_CURSOR', async () => {
    const job = pendingJob();
    await deps.jobs.create(job);
    await expect(listJobEvents(deps, job.jobId, { limit: 10, cursor: 'bm9wZQ' })).rejects.toMatchObject({
      code: 'INVALID_CURSOR',
    });
  });

  it('bounds the looks a flood of non-final webhooks causes on a running job', async () => {
    const job = pendingJob({ upstreamId: 'up-running' });
    await deps.jobs.create(job);
    deps.upstream.statuses.set('up-running', { id: 'up-running', status: 'IN_PROGRESS' });
    const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
    const running = Buffer.from('{"id":"up-running","status":"IN_PROGRESS"}');
    for (let i = 0; i < 100; i++)
      await receiveWebhook(deps, { jobId: job.jobId, contentType: 'application/json', token, body: running });
    // received, unusable and the /status look each: five in full, the rest on their tallies.
    expect(deps.jobs.events.filter((e) => e.jobId === job.jobId)).toHaveLength(3 * TALLY_KEEPS_FIRST);
    const { events } = await listJobEvents(deps, job.jobId, { limit: 500 });
    expect(events.find((e) => e.type === 'status.polled' && e.count)?.count).toBe(100);
  });
});
