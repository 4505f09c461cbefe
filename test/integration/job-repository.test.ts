// The DynamoDB job repository's listings on real DynamoDB servers (dynalite, DynamoDB Local); the rest of the
// port is job-repository-contract.test.ts, shared with the in-memory fake.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import type { Job } from '../../functions/core/job.ts';
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
