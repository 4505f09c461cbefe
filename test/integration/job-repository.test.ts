// The DynamoDB job repository on real DynamoDB servers (dynalite, DynamoDB Local): listing, due index, the audit trail.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import type { AuditEvent, Job } from '../../functions/core/job.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { dynamoTargets } from '../support/e2e-stack.ts';

const TABLE = 'repository-test';
const nextId = monotonicFactory();
// A server that cannot run here (no Java, outside CI) is left out with the warning dynamoTargets prints.
const targets = (await dynamoTargets()).filter((t) => !t.skip);

describe.each(targets)('DynamoJobRepository on $server', (target) => {
  let stores: LocalStores;
  let repo: DynamoJobRepository;
  const client = () =>
    createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });

  beforeAll(async () => {
    if (target.missing) throw new Error(target.missing);
    stores = await startLocalStores({
      dynamo: target.server,
      dataDir: mkdtempSync(join(tmpdir(), 'repo-')),
      tableName: TABLE,
      bucketName: 'repository-test-bucket',
      dynamoInMemory: true,
    });
    repo = new DynamoJobRepository({ client: client(), tableName: TABLE, dueShards: 4 });
  });
  afterAll(async () => {
    await stores?.stop();
  });

  const job = (createdMs: number, overrides: Partial<Job> = {}): Job => ({
    jobId: nextId(createdMs),
    endpoint: 'default',
    state: 'PENDING',
    origin: 'submitted',
    createdAt: new Date(createdMs).toISOString(),
    ...overrides,
  });

  it('pages newest first across day partitions, and new jobs written meanwhile never shift later pages', async () => {
    const base = Date.parse('2026-11-20T10:00:00Z');
    const original: Job[] = [];
    // 30 jobs over three days, so pages cross day partitions.
    for (let i = 0; i < 30; i++)
      original.push(job(base + i * 2 * 3_600_000, { metadata: { batch: 'stable' } }));
    for (const j of original) await repo.create(j);
    const query = {
      from: '2026-11-19T00:00:00.000Z',
      to: '2026-11-24T00:00:00.000Z',
      tag: { key: 'batch', value: 'stable' },
      limit: 7,
    };

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo.list({ ...query, ...(cursor && { cursor }) });
      seen.push(...page.jobs.map((j) => j.jobId));
      cursor = page.cursor;
      // Concurrent writers: newer jobs inside the range land while the client pages.
      await repo.create(job(base + 60 * 3_600_000 + pages * 1000, { metadata: { batch: 'stable' } }));
      pages++;
    } while (cursor && pages < 20);

    const expected = original
      .map((j) => j.jobId)
      .sort()
      .reverse();
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('finds due jobs through the sparse index only while they are watched', async () => {
    const due = job(Date.parse('2026-11-21T00:00:00Z'), { dueAt: 1000 });
    await repo.create(due);
    const shardsWith = async () =>
      (await Promise.all([0, 1, 2, 3].map((s) => repo.queryDue(s, 5000, 100)))).flat().map((j) => j.jobId);
    expect(await shardsWith()).toContain(due.jobId);
    await repo.expire(due.jobId, 'gone', 2000);
    await repo.markAnnounced(due.jobId, 'EXPIRED', 2000);
    expect(await shardsWith()).not.toContain(due.jobId);
    const stored = await repo.get(due.jobId);
    expect(stored?.dueAt).toBeUndefined();
  });

  it('keeps the audit trail append-only and in order', async () => {
    const j = job(Date.parse('2026-11-22T00:00:00Z'));
    await repo.create(j);
    for (const type of ['created', 'submitted', 'archived'] as const) {
      await repo.appendEvent({ jobId: j.jobId, at: new Date().toISOString(), type });
    }
    expect((await repo.listEvents(j.jobId)).map((e) => e.type)).toEqual(['created', 'submitted', 'archived']);
  });

  it('tallies repeats on one item, counting a retried event once, with reserved attribute names', async () => {
    const j = job(Date.parse('2026-11-23T00:00:00Z'));
    await repo.create(j);
    const at = (s: number) => `2026-11-23T00:00:${String(s).padStart(2, '0')}.000Z`;
    const dup = (s: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
      jobId: j.jobId,
      at: at(s),
      type: 'webhook.duplicate',
      source: 'webhook',
      detail: { upstreamStatus: 'COMPLETED', n: s },
      ...extra,
    });
    expect(await repo.countEvent(dup(1), 'e1')).toBe(1);
    expect(await repo.countEvent(dup(1), 'e1')).toBe(1);
    expect(await repo.countEvent(dup(2, { actor: 'arn:aws:iam::1:user/a' }), 'e2')).toBe(2);
    expect(await repo.countEvent(dup(3), 'e3')).toBe(3);
    await repo.appendEvent({ jobId: j.jobId, at: at(0), type: 'archived' });

    const events = await repo.listEvents(j.jobId);
    expect(events.map((e) => e.type)).toEqual(['archived', 'webhook.duplicate']);
    // The latest event's fields, none left over from an earlier one (no actor since the third had none).
    expect(events[1]).toEqual({
      ...dup(3),
      count: 3,
      firstAt: at(1),
    });
  });

  it('pages the audit trail oldest first, tallies last, each event once', async () => {
    const j = job(Date.parse('2026-11-24T00:00:00Z'));
    await repo.create(j);
    const total = 23;
    for (let i = 0; i < total; i++) {
      await repo.appendEvent({
        jobId: j.jobId,
        at: new Date(Date.parse('2026-11-24T00:00:00Z') + i).toISOString(),
        type: 'status.polled',
        detail: { i },
      });
    }
    await repo.countEvent({ jobId: j.jobId, at: '2026-11-24T00:00:00.000Z', type: 'links.issued' }, 'x');
    const seen: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo.listEventPage(j.jobId, 5, cursor);
      expect(page.events.length).toBeLessThanOrEqual(5);
      seen.push(...page.events.map((e) => e.detail?.i ?? e.type));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual([...[...Array(total).keys()], 'links.issued']);
  });

  it('filters a listing by principal, submitted or tracked', async () => {
    const alice = 'arn:aws:iam::123456789012:user/alice';
    const base = Date.parse('2026-11-25T10:00:00Z');
    const submitted = job(base, { submittedBy: alice });
    const tracked = job(base + 1000, { origin: 'tracked', trackedBy: alice });
    const other = job(base + 2000, { submittedBy: 'arn:aws:iam::123456789012:user/bob' });
    for (const j of [submitted, tracked, other]) await repo.create(j);
    const page = await repo.list({
      from: '2026-11-25T00:00:00.000Z',
      to: '2026-11-26T00:00:00.000Z',
      principal: alice,
      limit: 10,
    });
    expect(page.jobs.map((j) => j.jobId)).toEqual([tracked.jobId, submitted.jobId]);
  });
});
