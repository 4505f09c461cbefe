// GET /jobs on real DynamoDB servers (dynalite, DynamoDB Local): sharded KEYS_ONLY indexes, filters, cursors, write cost.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import type { Job } from '../../functions/core/job.ts';
import type { ListQuery } from '../../functions/core/ports.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { dynamoTargets } from '../support/e2e-stack.ts';

const TABLE = 'listing-test';
const nextId = monotonicFactory();
const targets = (await dynamoTargets()).filter((t) => !t.skip);

/** Write units DynamoDB reported per index, from every write the client sent (ReturnConsumedCapacity INDEXES). */
function reportIndexWrites(client: DynamoDBDocumentClient): Record<string, number> {
  const units: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (/^(Put|Update|Delete)/.test(context.commandName ?? '')) input.ReturnConsumedCapacity = 'INDEXES';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: Record<string, unknown> }).ConsumedCapacity;
      const indexes = (consumed?.GlobalSecondaryIndexes ?? {}) as Record<string, { CapacityUnits?: number }>;
      for (const [name, used] of Object.entries(indexes))
        units[name] = (units[name] ?? 0) + (used.CapacityUnits ?? 0);
      return result;
    },
    { step: 'initialize', name: 'indexWriteReport' },
  );
  return units;
}

describe.each(targets)('listing on $server', (target) => {
  let stores: LocalStores;
  let repo: DynamoJobRepository;
  let indexWrites: Record<string, number>;

  beforeAll(async () => {
    if (target.missing) throw new Error(target.missing);
    stores = await startLocalStores({
      dynamo: target.server,
      dataDir: mkdtempSync(join(tmpdir(), 'listing-')),
      tableName: TABLE,
      bucketName: 'listing-test-bucket',
      dynamoInMemory: true,
    });
    const client = createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });
    indexWrites = reportIndexWrites(client);
    repo = new DynamoJobRepository({ client, tableName: TABLE, dueShards: 4 });
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

  async function everyPage(query: ListQuery): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo.list({ ...query, ...(cursor && { cursor }) });
      expect(page.jobs.length).toBeLessThanOrEqual(query.limit);
      ids.push(...page.jobs.map((j) => j.jobId));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 100);
    expect(cursor).toBeUndefined();
    return ids;
  }

  it('filters on what a job is now, paging across shards and days, per endpoint too', async () => {
    const base = Date.parse('2026-10-10T06:00:00Z');
    const alice = 'arn:aws:iam::123456789012:user/alice';
    const jobs: Job[] = [];
    for (let i = 0; i < 60; i++) {
      const j = job(base + i * 80 * 60_000, {
        endpoint: i % 2 === 0 ? 'sdxl' : 'llm',
        metadata: { run: i % 3 === 0 ? 'a' : 'b' },
        ...(i % 4 === 0 ? { submittedBy: alice } : {}),
        dueAt: 1000,
      });
      await repo.create(j);
      jobs.push(j);
    }
    // Listing reads the job itself: a state changed after create is what the filter sees.
    const archived = new Set<string>();
    for (const j of jobs.filter((_, i) => i % 5 === 0)) {
      await repo.apply(j.jobId, {
        name: 'arrange',
        patch: { state: 'ARCHIVED', upstreamStatus: 'COMPLETED' },
        condition: { states: ['PENDING'] },
      });
      archived.add(j.jobId);
    }
    const range = { from: '2026-10-10T00:00:00.000Z', to: '2026-10-14T00:00:00.000Z' };
    const expected = (keep: (j: Job) => boolean) =>
      jobs
        .filter(keep)
        .map((j) => j.jobId)
        .reverse();

    expect(await everyPage({ ...range, limit: 9 })).toEqual(expected(() => true));
    expect(await everyPage({ ...range, state: 'ARCHIVED', limit: 4 })).toEqual(
      expected((j) => archived.has(j.jobId)),
    );
    expect(await everyPage({ ...range, upstreamStatus: 'COMPLETED', endpoint: 'sdxl', limit: 2 })).toEqual(
      expected((j) => archived.has(j.jobId) && j.endpoint === 'sdxl'),
    );
    expect(
      await everyPage({ ...range, principal: alice, tag: { key: 'run', value: 'a' }, limit: 3 }),
    ).toEqual(expected((j) => j.submittedBy === alice && j.metadata?.run === 'a'));
  });

  it('refuses a cursor from another query and one forged to reach outside the given range', async () => {
    const base = Date.parse('2026-10-20T06:00:00Z');
    for (let i = 0; i < 5; i++) await repo.create(job(base + i * 1000));
    const bounds = { from: '2026-10-20T00:00:00.000Z', to: '2026-10-21T00:00:00.000Z' };
    const query = { ...bounds, requested: bounds, limit: 2 };
    const page = await repo.list(query);
    expect(page.cursor).toBeDefined();
    await expect(repo.list({ ...query, state: 'ARCHIVED', cursor: page.cursor })).rejects.toThrow(
      /different query/,
    );
    const cursor = JSON.parse(Buffer.from(String(page.cursor), 'base64url').toString('utf8'));
    const forged = Buffer.from(JSON.stringify({ ...cursor, f: '2026-01-01T00:00:00.000Z' })).toString(
      'base64url',
    );
    await expect(repo.list({ ...query, cursor: forged })).rejects.toThrow(/not one this API issued/);
  });

  it.runIf(target.server === 'dynamodb-local')(
    "costs each listing index one write per job: later writes to the job never reach them (DynamoDB Local's own capacity report)",
    async () => {
      for (const key of Object.keys(indexWrites)) delete indexWrites[key];
      const j = job(Date.parse('2026-10-25T06:00:00Z'), { state: 'SUBMITTING', dueAt: 1000 });
      await repo.create(j);
      await repo.apply(j.jobId, {
        name: 'arrange',
        patch: { state: 'PENDING', upstreamId: 'up-1', dueAt: 2000 },
        condition: { states: ['SUBMITTING'] },
      });
      await repo.apply(j.jobId, {
        name: 'arrange',
        patch: { upstreamStatus: 'IN_PROGRESS', dueAt: 3000 },
        condition: { states: ['PENDING'] },
      });
      await repo.claimCapture(j.jobId, 'me', 10_000, 60_000);
      await repo.apply(j.jobId, {
        name: 'arrange',
        patch: { state: 'ARCHIVED', upstreamStatus: 'COMPLETED', resultKey: 'k', dueAt: null },
        condition: { states: ['PENDING'], leaseOwner: 'me' },
      });
      expect(indexWrites.byDay).toBe(1);
      expect(indexWrites.byEndpointDay).toBe(1);
      // The sparse due index still follows the job's schedule: that is what it is for.
      expect(indexWrites.due ?? 0).toBeGreaterThan(1);
    },
  );
});
