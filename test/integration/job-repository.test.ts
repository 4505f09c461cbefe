// The DynamoDB job repository against a real DynamoDB wire protocol (dynalite): listing, due index, append-only trail.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import type { Job } from '../../functions/core/job.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';

const TABLE = 'repository-test';
const nextId = monotonicFactory();

describe('DynamoJobRepository on a real DynamoDB protocol', () => {
  let stores: LocalStores;
  let repo: DynamoJobRepository;
  const client = () =>
    createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });

  beforeAll(async () => {
    stores = await startLocalStores({
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
    await repo.update(
      due.jobId,
      { state: 'ARCHIVED', archivedAt: new Date().toISOString() },
      { states: ['PENDING'] },
    );
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
});
