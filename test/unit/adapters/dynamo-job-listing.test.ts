// GET /jobs over the sharded KEYS_ONLY indexes: shards merged newest first, jobs read back in batches, filters after.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { encodeTime, monotonicFactory } from 'ulid';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoJobListing, ListingReadError } from '../../../functions/adapters/dynamo-job-listing.ts';
import { jobItem, listShardOf } from '../../../functions/adapters/job-items.ts';
import { LIST_SHARDS } from '../../../functions/adapters/table-definition.ts';
import { ValidationError } from '../../../functions/core/errors.ts';
import type { Job } from '../../../functions/core/job.ts';
import type { ListQuery } from '../../../functions/core/ports.ts';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const ddb = mockClient(doc);
const listing = new DynamoJobListing({ client: doc, tableName: 'jobs', sleep: async () => {} });
const nextId = monotonicFactory();

/** The table as DynamoDB would hold it: items by key, and the two KEYS_ONLY indexes derived from them. */
let items: Map<string, Record<string, unknown>>;
/** Keys BatchGetItem hands back unread on its next calls (throttling), in order. */
let unreadOnNextCalls: number[];

function store(job: Job): Job {
  const item = jobItem(job, 8);
  items.set(String(item.pk), item);
  return job;
}

const job = (createdMs: number, overrides: Partial<Job> = {}): Job =>
  store({
    jobId: nextId(createdMs),
    endpoint: 'default',
    state: 'PENDING',
    origin: 'submitted',
    createdAt: new Date(createdMs).toISOString(),
    ...overrides,
  });

beforeEach(() => {
  ddb.reset();
  items = new Map();
  unreadOnNextCalls = [];
  ddb.on(QueryCommand).callsFake((input) => {
    const pkName = input.ExpressionAttributeNames['#pk'];
    const { ':pk': pk, ':lo': lo, ':hi': hi } = input.ExpressionAttributeValues;
    const after = input.ExclusiveStartKey?.jobId as string | undefined;
    // Keys only: what the index holds is its key, the table's key and nothing else.
    const keys = [...items.values()]
      .filter((i) => i[pkName] === pk && String(i.jobId) >= lo && String(i.jobId) <= hi)
      .filter((i) => after === undefined || String(i.jobId) < after)
      .sort((a, b) => (String(a.jobId) < String(b.jobId) ? 1 : -1))
      .map((i) => ({ pk: i.pk, sk: i.sk, jobId: i.jobId, [pkName]: i[pkName] }));
    const page = keys.slice(0, input.Limit);
    const more = keys.length > page.length;
    return { Items: page, ...(more && { LastEvaluatedKey: page.at(-1) }) };
  });
  ddb.on(BatchGetCommand).callsFake((input) => {
    const keys = input.RequestItems.jobs.Keys as { pk: string }[];
    const unread = Math.min(keys.length, unreadOnNextCalls.shift() ?? 0);
    const served = keys.slice(0, keys.length - unread);
    return {
      Responses: { jobs: served.map((k) => items.get(k.pk)).filter(Boolean) },
      ...(unread > 0 && { UnprocessedKeys: { jobs: { Keys: keys.slice(keys.length - unread) } } }),
    };
  });
});

const range = { from: '2026-11-19T00:00:00.000Z', to: '2026-11-24T00:00:00.000Z' };

async function everyPage(query: ListQuery, maxPages = 50): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await listing.list({ ...query, ...(cursor && { cursor }) });
    expect(page.jobs.length).toBeLessThanOrEqual(query.limit);
    ids.push(...page.jobs.map((j) => j.jobId));
    cursor = page.cursor;
    pages++;
  } while (cursor && pages < maxPages);
  expect(cursor).toBeUndefined();
  return { ids, pages };
}

const newestFirst = (jobs: Job[]) =>
  jobs
    .map((j) => j.jobId)
    .sort()
    .reverse();

describe('DynamoJobListing', () => {
  it('spreads one day over every shard and merges them back newest first, page after page', async () => {
    const base = Date.parse('2026-11-20T10:00:00Z');
    // 90 jobs over three days: every shard of every day holds some.
    const jobs = Array.from({ length: 90 }, (_, i) => job(base + i * 45 * 60_000));
    const shardsUsed = new Set([...items.values()].map((i) => i.dayShard));
    expect(shardsUsed.size).toBeGreaterThan(2 * LIST_SHARDS);

    const { ids, pages } = await everyPage({ ...range, limit: 7 });
    expect(ids).toEqual(newestFirst(jobs));
    expect(pages).toBe(Math.ceil(90 / 7));
  });

  it('keeps newest first when one shard holds the newest jobs: a shard out of keys is read before anything older', async () => {
    const base = Date.parse('2026-11-22T00:00:00Z');
    const older = Array.from({ length: 40 }, (_, i) => job(base + i * 1000));
    // The 30 newest jobs all hash to shard 0 (ids drawn until they do): its first page cannot hold them all.
    const newest: Job[] = [];
    for (let t = base + 100_000; newest.length < 30; t++) {
      const candidate = { jobId: nextId(t), createdAt: new Date(t).toISOString() };
      if (listShardOf(candidate.jobId) === 0)
        newest.push(store({ ...candidate, endpoint: 'default', state: 'PENDING', origin: 'submitted' }));
    }
    const { ids } = await everyPage({ ...range, limit: 20 });
    expect(ids).toEqual(newestFirst([...older, ...newest]));
  });

  it('reads the jobs themselves with consistent BatchGetItem calls of at most 100 keys', async () => {
    const base = Date.parse('2026-11-21T00:00:00Z');
    const jobs = Array.from({ length: 250 }, (_, i) => job(base + i * 1000, { upstreamStatus: 'IN_QUEUE' }));
    const page = await listing.list({ ...range, limit: 250 });
    expect(page.jobs).toEqual([...jobs].reverse());
    const batches = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.jobs);
    expect(batches.every((b) => (b?.Keys?.length ?? 0) <= 100 && b?.ConsistentRead === true)).toBe(true);
    expect(batches.reduce((n, b) => n + (b?.Keys?.length ?? 0), 0)).toBe(250);
  });

  it('applies every filter to the jobs as read, honouring the page limit, with nothing skipped or repeated', async () => {
    const base = Date.parse('2026-11-20T00:00:00Z');
    const alice = 'arn:aws:iam::123456789012:user/alice';
    const all = Array.from({ length: 120 }, (_, i) =>
      job(base + i * 30 * 60_000, {
        state: i % 3 === 0 ? 'ARCHIVED' : 'PENDING',
        upstreamStatus: i % 3 === 0 ? 'COMPLETED' : 'IN_PROGRESS',
        metadata: { batch: i % 2 === 0 ? 'even' : 'odd' },
        ...(i % 5 === 0
          ? { origin: 'tracked', trackedBy: alice }
          : { submittedBy: i % 4 === 0 ? alice : 'bob' }),
      }),
    );
    const cases: [Partial<ListQuery>, (j: Job) => boolean][] = [
      [{ state: 'ARCHIVED' }, (j) => j.state === 'ARCHIVED'],
      [{ upstreamStatus: 'IN_PROGRESS' }, (j) => j.upstreamStatus === 'IN_PROGRESS'],
      [{ tag: { key: 'batch', value: 'even' } }, (j) => j.metadata?.batch === 'even'],
      [{ principal: alice }, (j) => j.submittedBy === alice || j.trackedBy === alice],
      [
        { state: 'PENDING', tag: { key: 'batch', value: 'odd' } },
        (j) => j.state === 'PENDING' && j.metadata?.batch === 'odd',
      ],
      [{ tag: { key: 'constructor', value: 'x' } }, () => false],
    ];
    for (const [filters, keep] of cases) {
      const { ids } = await everyPage({ ...range, ...filters, limit: 4 });
      expect(ids, JSON.stringify(filters)).toEqual(newestFirst(all.filter(keep)));
    }
  });

  it('lists one endpoint from its own sharded index', async () => {
    const base = Date.parse('2026-11-22T00:00:00Z');
    const mine = Array.from({ length: 20 }, (_, i) => job(base + i * 1000, { endpoint: 'sdxl' }));
    for (let i = 0; i < 20; i++) job(base + i * 1000 + 500, { endpoint: 'other' });
    const { ids } = await everyPage({ ...range, endpoint: 'sdxl', limit: 6 });
    expect(ids).toEqual(newestFirst(mine));
    const queried = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(new Set(queried.map((q) => q.IndexName))).toEqual(new Set(['byEndpointDay']));
    expect(queried.every((q) => String(q.ExpressionAttributeValues?.[':pk']).startsWith('sdxl#'))).toBe(true);
  });

  it('asks again for the keys BatchGetItem left unprocessed, and fails rather than return a short page', async () => {
    const base = Date.parse('2026-11-23T00:00:00Z');
    const jobs = Array.from({ length: 30 }, (_, i) => job(base + i * 1000));
    unreadOnNextCalls = [12, 5];
    const page = await listing.list({ ...range, limit: 30 });
    expect(page.jobs.map((j) => j.jobId)).toEqual(newestFirst(jobs));
    expect(
      ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.jobs?.Keys?.length),
    ).toEqual([30, 12, 5]);

    unreadOnNextCalls = Array(20).fill(1);
    await expect(listing.list({ ...range, limit: 30 })).rejects.toThrow(ListingReadError);
  });

  it('stops a sparse listing at its request budget with a cursor, and the cursors finish it', async () => {
    // One match in 300 jobs spread over 40 days: no single page can look at all of them.
    const from = Date.parse('2026-09-01T00:00:00Z');
    for (let i = 0; i < 300; i++) job(from + i * 3 * 3_600_000, { state: 'PENDING' });
    const needle = job(from + 5 * 3_600_000, { state: 'EXPIRED' });
    const query = {
      from: '2026-09-01T00:00:00.000Z',
      to: '2026-10-20T00:00:00.000Z',
      state: 'EXPIRED' as const,
    };
    const first = await listing.list({ ...query, limit: 10 });
    expect(first.jobs).toEqual([]);
    expect(first.cursor).toBeDefined();
    const { ids } = await everyPage({ ...query, limit: 10 });
    expect(ids).toEqual([needle.jobId]);
  });

  it('refuses a cursor it did not issue, one from another query, and one forged to widen the range', async () => {
    const bounds = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-29T00:00:00.000Z' };
    const query = { ...bounds, requested: bounds, limit: 1 };
    job(Date.parse('2026-11-20T00:00:00Z'));
    job(Date.parse('2026-11-21T00:00:00Z'));
    await expect(listing.list({ ...query, cursor: 'garbage' })).rejects.toThrow(ValidationError);
    const page = await listing.list(query);
    expect(page.cursor).toBeDefined();
    await expect(listing.list({ ...query, state: 'ARCHIVED', cursor: page.cursor })).rejects.toThrow(
      /different query/,
    );
    const decoded = JSON.parse(Buffer.from(String(page.cursor), 'base64url').toString('utf8'));
    const wider = { ...decoded, f: '2025-01-01T00:00:00.000Z' };
    const forged = Buffer.from(JSON.stringify(wider)).toString('base64url');
    await expect(listing.list({ ...query, cursor: forged })).rejects.toThrow(/not one this API issued/);
  });

  it('continues a listing whose default range ended "now" on a later request, within the first range', async () => {
    // GET /jobs without from/to lists the 30 days up to now; the next page's request has a later "now".
    const first = { from: '2026-10-30T12:00:00.000Z', to: '2026-11-29T12:00:00.000Z', limit: 1 };
    job(Date.parse('2026-11-20T00:00:00Z'));
    job(Date.parse('2026-11-21T00:00:00Z'));
    const page = await listing.list({ ...first, requested: {} });
    ddb.resetHistory();
    const later = { from: '2026-10-30T12:00:05.000Z', to: '2026-11-29T12:00:05.000Z', limit: 1 };
    await expect(listing.list({ ...later, requested: {}, cursor: page.cursor })).resolves.toBeDefined();
    const lowest = ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':lo'];
    expect(lowest).toBe(`${encodeTime(Date.parse(first.from), 10)}0000000000000000`);
  });
});
