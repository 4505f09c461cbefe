// JobRepository on DynamoDB: single-item conditional writes and batched appends (no transactions, no scans).

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { canonicalJson } from '../core/canonical-json.ts';
import { ConcurrentUpdateError, ValidationError } from '../core/errors.ts';
import type { AuditEvent, Job } from '../core/job.ts';
import type {
  DueJob,
  EventPage,
  IdempotencyClaim,
  IdempotencyRequest,
  JobRepository,
  ListPage,
  ListQuery,
} from '../core/ports.ts';
import { type JobTransition, TransitionRepository } from '../core/transitions.ts';
import { DynamoJobListing } from './dynamo-job-listing.ts';
import {
  dueShardValue,
  EVENT_PREFIX,
  eventFromItem,
  eventItem,
  idempotencyKeyItem,
  jobFromItem,
  jobItem,
  jobKey,
  tallyKey,
  upstreamLinkKey,
} from './job-items.ts';
import { TABLE_INDEXES } from './table-definition.ts';

export interface DynamoJobRepositoryOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  dueShards: number;
}

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException ||
  (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/**
 * The SDK sent the call more than once: an earlier attempt may have been applied with its answer lost (a 500
 * or a timeout after the write, "may or may not have succeeded"), so the retry fails its own condition.
 */
const retried = (err: unknown) =>
  ((err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1;

/** An events cursor is the sort key to resume after; any other text is one this API did not issue. */
function decodeEventCursor(cursor: string): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^EVENT#[\x21-\x7e]{1,300}$/.test(sk))
    throw new ValidationError('events cursor is not one this API issued', undefined, 'INVALID_CURSOR');
  return sk;
}

export class DynamoJobRepository extends TransitionRepository implements JobRepository {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly shards: number;
  /** GET /jobs lives in its own module (dynamo-job-listing.ts): the index reads, merge and filters. */
  private readonly listing: DynamoJobListing;

  constructor(options: DynamoJobRepositoryOptions) {
    super();
    this.db = options.client;
    this.table = options.tableName;
    this.shards = options.dueShards;
    this.listing = new DynamoJobListing({ client: options.client, tableName: options.tableName });
  }

  async create(job: Job): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: jobItem(job, this.shards),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      if (retried(err)) {
        const item = await this.item(jobKey(job.jobId));
        if (item && canonicalJson(item) === canonicalJson(jobItem(job, this.shards))) return;
      }
      throw new ConcurrentUpdateError(job.jobId, 'creating it');
    }
  }

  private async item(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  async get(jobId: string): Promise<Job | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: jobKey(jobId), ConsistentRead: true }),
    );
    return out.Item ? jobFromItem(out.Item) : undefined;
  }

  async apply(jobId: string, { name, patch, condition }: JobTransition): Promise<Job> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = {};
    const sets = new Map<string, unknown>();
    const removes = new Set<string>();
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined || field === 'jobId') continue;
      if (value === null) removes.add(field);
      else sets.set(field, value);
    }
    // The sparse due index follows dueAt (its shard is derived here: storage layout, not a rule).
    if (patch.dueAt === null) removes.add('dueShard');
    else if (typeof patch.dueAt === 'number') sets.set('dueShard', dueShardValue(jobId, this.shards));
    const alias = (field: string, i: number) => {
      names[`#f${i}`] = field;
      return `#f${i}`;
    };
    let n = 0;
    const setParts = [...sets].map(([field, value]) => {
      const i = n++;
      values[`:v${i}`] = value;
      return `${alias(field, i)} = :v${i}`;
    });
    const removeParts = [...removes].map((field) => alias(field, n++));
    const states = condition.states.map((s, i) => {
      values[`:s${i}`] = s;
      return `:s${i}`;
    });
    const conditions = [`attribute_exists(pk) AND #state IN (${states.join(', ')})`];
    const owner = condition.leaseOwner ?? condition.leaseFree?.owner;
    if (owner !== undefined) {
      names['#leaseOwner'] = 'leaseOwner';
      values[':owner'] = owner;
    }
    if (condition.leaseOwner) conditions.push('#leaseOwner = :owner');
    if (condition.leaseFree) {
      names['#leaseUntil'] = 'leaseUntil';
      values[':now'] = condition.leaseFree.nowMs;
      conditions.push('(attribute_not_exists(#leaseUntil) OR #leaseUntil < :now OR #leaseOwner = :owner)');
    }
    if (condition.runClaim !== undefined) {
      names['#runClaim'] = 'runClaim';
      values[':runClaim'] = condition.runClaim;
      conditions.push('#runClaim = :runClaim');
    }
    for (const [i, field] of (condition.absent ?? []).entries()) {
      names[`#a${i}`] = field;
      conditions.push(`attribute_not_exists(#a${i})`);
    }
    for (const [i, field] of (condition.present ?? []).entries()) {
      names[`#p${i}`] = field;
      conditions.push(`attribute_exists(#p${i})`);
    }
    const expression = [
      setParts.length ? `SET ${setParts.join(', ')}` : '',
      removeParts.length ? `REMOVE ${removeParts.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(jobId),
          UpdateExpression: expression,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return jobFromItem(out.Attributes ?? {});
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      // Our own write, landed by an attempt whose answer was lost: the item holds exactly what we wrote.
      if (retried(err)) {
        const item = await this.item(jobKey(jobId));
        const ours =
          item !== undefined &&
          [...sets].every(([field, value]) => canonicalJson(item[field]) === canonicalJson(value)) &&
          [...removes].every((field) => item[field] === undefined);
        if (ours) return jobFromItem(item);
        throw new ConcurrentUpdateError(jobId, name, item && jobFromItem(item));
      }
      throw new ConcurrentUpdateError(jobId, name);
    }
  }

  async appendEvent(event: AuditEvent, eventId: string = randomUUID()): Promise<void> {
    // Append-only: an event item is never overwritten, updated or deleted.
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: eventItem(event, eventId),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      // The id is unique to this event: an item already under it is this event, written by an earlier try.
      if (!isConditionFailure(err)) throw err;
    }
  }

  async appendEvents(events: ReadonlyArray<{ event: AuditEvent; eventId: string }>): Promise<void> {
    // Conditional puts side by side, one round trip of latency: BatchWriteItem would save requests but its
    // permission also deletes, and the functions that append audit lines may never delete one.
    await Promise.all(events.map(({ event, eventId }) => this.appendEvent(event, eventId)));
  }

  async countEvent(event: AuditEvent, eventId: string): Promise<number> {
    const key = tallyKey(event.jobId, event.type);
    const names: Record<string, string> = {
      '#at': 'at',
      '#type': 'type',
      '#jobId': 'jobId',
      '#first': 'firstAt',
      '#last': 'lastEventId',
      '#count': 'count',
    };
    const values: Record<string, unknown> = {
      ':at': event.at,
      ':type': event.type,
      ':jobId': event.jobId,
      ':id': eventId,
      ':one': 1,
    };
    const sets = ['#at = :at', '#type = :type', '#jobId = :jobId', '#first = if_not_exists(#first, :at)'];
    sets.push('#last = :id');
    const removes: string[] = [];
    // The tally shows the latest of its events: its optional fields follow that one, present or not.
    for (const name of ['source', 'detail', 'actor'] as const) {
      names[`#${name}`] = name;
      if (event[name] === undefined) removes.push(`#${name}`);
      else {
        values[`:${name}`] = event[name];
        sets.push(`#${name} = :${name}`);
      }
    }
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''} ADD #count :one`,
          // The id of the event last counted: a retry of that same event finds it and is not counted again.
          ConditionExpression: 'attribute_not_exists(#last) OR #last <> :id',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.count ?? 1);
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return Number((await this.item(key))?.count ?? 1);
    }
  }

  async listEvents(jobId: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listEventPage(jobId, 1000, cursor);
      events.push(...page.events);
      cursor = page.cursor;
    } while (cursor);
    return events;
  }

  async listEventPage(jobId: string, limit: number, cursor?: string): Promise<EventPage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': jobKey(jobId).pk, ':prefix': EVENT_PREFIX },
        ConsistentRead: true,
        Limit: limit,
        ...(cursor && { ExclusiveStartKey: { ...jobKey(jobId), sk: decodeEventCursor(cursor) } }),
      }),
    );
    const last = out.LastEvaluatedKey?.sk;
    return {
      events: (out.Items ?? []).map(eventFromItem),
      ...(typeof last === 'string' && { cursor: Buffer.from(last).toString('base64url') }),
    };
  }

  async queryDue(shard: number, nowMs: number, limit: number): Promise<DueJob[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: TABLE_INDEXES.due.name,
        KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
        ExpressionAttributeValues: { ':shard': `DUE#${shard}`, ':now': nowMs },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => jobFromItem(item) as DueJob);
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.listing.list(query);
  }

  async findByUpstream(endpoint: string, upstreamId: string): Promise<string | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: upstreamLinkKey(endpoint, upstreamId),
        ConsistentRead: true,
      }),
    );
    return typeof out.Item?.jobId === 'string' ? out.Item.jobId : undefined;
  }

  async linkUpstream(endpoint: string, upstreamId: string, jobId: string): Promise<string> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...upstreamLinkKey(endpoint, upstreamId), jobId, endpoint, upstreamId },
          ConditionExpression: 'attribute_not_exists(pk) OR jobId = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
        }),
      );
      return jobId;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return (await this.findByUpstream(endpoint, upstreamId)) ?? jobId;
    }
  }

  async claimIdempotencyKey(request: IdempotencyRequest): Promise<IdempotencyClaim> {
    const { key, requestHash, jobId, nowMs, expiresAtMs } = request;
    const now = Math.floor(nowMs / 1000);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...idempotencyKeyItem(key), jobId, requestHash, expiresAt: Math.floor(expiresAtMs / 1000) },
          // An expired claim no longer blocks, however late TTL deletion removes it.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: idempotencyKeyItem(key), ConsistentRead: true }),
    );
    if (!out.Item || Number(out.Item.expiresAt) <= now) return this.claimIdempotencyKey(request);
    // Job ids are never reused: a claim naming ours is our own put, landed by an attempt whose answer was lost.
    if (out.Item.jobId === jobId) return { claimed: true };
    return { claimed: false, jobId: String(out.Item.jobId), requestHash: String(out.Item.requestHash) };
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: idempotencyKeyItem(key),
          ConditionExpression: 'jobId = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}
