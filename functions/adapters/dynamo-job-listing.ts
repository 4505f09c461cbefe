// GET /jobs on DynamoDB: the sharded KEYS_ONLY day indexes merged newest first, the jobs read back in batches.
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import type { Job } from '../core/job.ts';
import type { ListPage, ListQuery } from '../core/ports.ts';
import { dayOf, dayShardKey, endpointDayShardKey, jobFromItem, jobKey } from './job-items.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';
import { LIST_SHARDS, TABLE_INDEXES } from './table-definition.ts';

/**
 * One page sends about this many requests at most (shard queries and batch reads; a round may finish past it):
 * every day walked costs a query per shard even when empty, so a sparse filter or a long empty range answers
 * with a cursor after about eight empty days instead of a slow page.
 */
export const LIST_REQUEST_BUDGET = 128;
/** BatchGetItem reads at most 100 keys per call. */
const BATCH_GET_MAX = 100;
/** A filtered listing reads this many jobs per round: filters are only known to match after the read. */
const FILTERED_ROUND = 100;
/** BatchGetItem hands back keys it did not read (throttling, its 16 MB cap): ask again this often at most. */
const BATCH_GET_ATTEMPTS = 8;
const DAY_MS = 86_400_000;
const ABOVE_EVERY_ID = 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ';

export interface DynamoJobListingOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Waits between BatchGetItem retries (full jitter, exponential); tests pass their own. */
  sleep?: (ms: number) => Promise<void>;
}

/** A listing asked for the jobs it found in the index and some stayed unread after every retry. */
export class ListingReadError extends Error {
  constructor(unread: number) {
    super(`BatchGetItem left ${unread} jobs unread after ${BATCH_GET_ATTEMPTS} attempts`);
    this.name = 'ListingReadError';
  }
}

const previousDay = (day: string) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString());

/** The filters of a listing, applied to each job as read (the index holds keys only). */
function matches(job: Job, q: ListQuery): boolean {
  if (q.state && job.state !== q.state) return false;
  if (q.upstreamStatus && job.upstreamStatus !== q.upstreamStatus) return false;
  if (q.principal && job.submittedBy !== q.principal && job.trackedBy !== q.principal) return false;
  if (q.tag) {
    const metadata = job.metadata ?? {};
    if (!Object.hasOwn(metadata, q.tag.key) || metadata[q.tag.key] !== q.tag.value) return false;
  }
  return true;
}

const filtered = (q: ListQuery) => Boolean(q.state || q.upstreamStatus || q.principal || q.tag);

/** One shard of one day, read newest first below a job id, a page at a time as the merge needs it. */
interface ShardReader {
  pk: string;
  /** The day's upper bound when its reading began: one query, paged by its start key. */
  hi: string;
  /** Job ids read and not yet taken, newest first. */
  buffer: string[];
  start: Record<string, unknown> | undefined;
  done: boolean;
}

export class DynamoJobListing {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoJobListingOptions) {
    this.db = options.client;
    this.table = options.tableName;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async list(request: ListQuery): Promise<ListPage> {
    const cursor = request.cursor ? decodeCursor(request, request.cursor) : undefined;
    // A cursor continues its own listing: the time range of its first page, not one recomputed from "now".
    const query = cursor ? { ...request, from: cursor.f, to: cursor.t } : request;
    const lowest = `${encodeTime(Date.parse(query.from), 10)}0000000000000000`;
    const jobs: Job[] = [];
    let budget = LIST_REQUEST_BUDGET;
    let day = cursor?.d ?? dayOf(query.to);
    // Every job of `day` at or above this id has been looked at, in every shard.
    let below = cursor?.k ?? `${encodeTime(Date.parse(query.to), 10)}ZZZZZZZZZZZZZZZZ`;

    while (day >= dayOf(query.from)) {
      const shards = this.shardsOf(query, day, below);
      while (shards.some((s) => !s.done || s.buffer.length > 0)) {
        if (budget <= 0) return { jobs, cursor: encodeCursor(query, day, below) };
        const want = filtered(query) ? FILTERED_ROUND : query.limit - jobs.length;
        budget -= await this.fill(shards, query, lowest, want);
        const candidates = takeNewest(shards, want);
        if (candidates.length === 0) continue;
        budget -= Math.ceil(candidates.length / BATCH_GET_MAX);
        const read = await this.readJobs(candidates);
        for (const jobId of candidates) {
          below = jobId;
          const job = read.get(jobId);
          if (job && matches(job, query)) jobs.push(job);
          if (jobs.length === query.limit) return { jobs, cursor: encodeCursor(query, day, below) };
        }
      }
      day = previousDay(day);
      below = ABOVE_EVERY_ID;
    }
    return { jobs };
  }

  private shardsOf(query: ListQuery, day: string, below: string): ShardReader[] {
    return Array.from({ length: LIST_SHARDS }, (_, shard) => ({
      pk: query.endpoint ? endpointDayShardKey(query.endpoint, day, shard) : dayShardKey(day, shard),
      hi: below,
      buffer: [],
      start: undefined,
      done: false,
    }));
  }

  /**
   * Queries, together, every shard whose keys ran out; each reads a little more than its share of `want`.
   * Returns how many queries it sent.
   */
  private async fill(shards: ShardReader[], query: ListQuery, lowest: string, want: number): Promise<number> {
    const empty = shards.filter((s) => !s.done && s.buffer.length === 0);
    const limit = Math.min(1000, Math.ceil((want * 1.5) / LIST_SHARDS) + 2);
    const index = query.endpoint ? TABLE_INDEXES.byEndpointDay : TABLE_INDEXES.byDay;
    await Promise.all(
      empty.map(async (shard) => {
        const out = await this.db.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: index.name,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
            ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
            ExpressionAttributeValues: { ':pk': shard.pk, ':lo': lowest, ':hi': shard.hi },
            ScanIndexForward: false,
            Limit: limit,
            ...(shard.start && { ExclusiveStartKey: shard.start }),
          }),
        );
        for (const item of out.Items ?? []) {
          // BETWEEN is inclusive; the cursor's own job was already served.
          if (typeof item.jobId === 'string' && item.jobId < shard.hi) shard.buffer.push(item.jobId);
        }
        shard.start = out.LastEvaluatedKey;
        shard.done = shard.start === undefined;
      }),
    );
    return empty.length;
  }

  /** The jobs themselves, strongly consistent (a listing shows each job as it is now), by id. */
  private async readJobs(jobIds: string[]): Promise<Map<string, Job>> {
    const read = new Map<string, Job>();
    const chunks: string[][] = [];
    for (let i = 0; i < jobIds.length; i += BATCH_GET_MAX) chunks.push(jobIds.slice(i, i + BATCH_GET_MAX));
    await Promise.all(chunks.map((chunk) => this.readChunk(chunk, read)));
    return read;
  }

  private async readChunk(jobIds: string[], read: Map<string, Job>): Promise<void> {
    let keys: Record<string, unknown>[] = jobIds.map(jobKey);
    for (let attempt = 1; ; attempt++) {
      const out = await this.db.send(
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[this.table] ?? []) {
        const job = jobFromItem(item);
        read.set(job.jobId, job);
      }
      keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
      if (keys.length === 0) return;
      // A page missing jobs the index named would be a wrong answer: fail rather than return it.
      if (attempt === BATCH_GET_ATTEMPTS) throw new ListingReadError(keys.length);
      await this.sleep(Math.random() * Math.min(1000, 25 * 2 ** attempt));
    }
  }
}

/**
 * Up to `want` job ids, newest first across the shards. A shard that still has keys to read but none in
 * hand stops the merge: its next id could be newer than any other shard's, so the next round reads it first.
 */
function takeNewest(shards: ShardReader[], want: number): string[] {
  const taken: string[] = [];
  while (taken.length < want) {
    if (shards.some((s) => !s.done && s.buffer.length === 0)) break;
    let newest: ShardReader | undefined;
    for (const s of shards) {
      const head = s.buffer[0];
      if (head !== undefined && (!newest || head > (newest.buffer[0] as string))) newest = s;
    }
    if (!newest) break;
    taken.push(newest.buffer.shift() as string);
  }
  return taken;
}
