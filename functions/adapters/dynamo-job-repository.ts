// JobRepository on DynamoDB: single-item conditional writes only (no transactions, no scans).

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import { canonicalJson } from '../core/canonical-json.ts';
import { ConcurrentUpdateError, ValidationError } from '../core/errors.ts';
import type { AuditEvent, Job } from '../core/job.ts';
import { isWatched } from '../core/job-state.ts';
import type {
  DueJob,
  EventPage,
  IdempotencyClaim,
  JobPatch,
  JobRepository,
  ListPage,
  ListQuery,
  UpdateCondition,
} from '../core/ports.ts';
import {
  dayOf,
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
import { decodeCursor, encodeCursor } from './list-cursor.ts';
import { TABLE_INDEXES } from './table-definition.ts';

/** At most this many queries serve one page of a listing; a sparse filter returns a cursor instead of a slow page. */
const LIST_QUERY_BUDGET = 40;
const DAY_MS = 86_400_000;

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

export class DynamoJobRepository implements JobRepository {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly shards: number;

  constructor(options: DynamoJobRepositoryOptions) {
    this.db = options.client;
    this.table = options.tableName;
    this.shards = options.dueShards;
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

  async update(jobId: string, patch: JobPatch, condition: UpdateCondition): Promise<Job> {
    const names: Record<string, string> = { '#state': 'state' };
    const values: Record<string, unknown> = {};
    const sets = new Map<string, unknown>();
    const removes = new Set<string>();
    for (const [name, value] of Object.entries(patch)) {
      if (value === undefined || name === 'jobId') continue;
      if (value === null) removes.add(name);
      else sets.set(name, value);
    }
    // The sparse due index follows dueAt; a terminal job leaves it unless the write keeps it due until it is
    // announced (core/announce.ts).
    if (patch.dueAt === null || (patch.state && !isWatched(patch.state) && patch.dueAt === undefined)) {
      sets.delete('dueAt');
      removes.add('dueShard').add('dueAt');
    } else if (typeof patch.dueAt === 'number') {
      sets.set('dueShard', dueShardValue(jobId, this.shards));
    }
    const alias = (name: string, i: number) => {
      names[`#f${i}`] = name;
      return `#f${i}`;
    };
    let n = 0;
    const setParts = [...sets].map(([name, value]) => {
      const i = n++;
      values[`:v${i}`] = value;
      return `${alias(name, i)} = :v${i}`;
    });
    const removeParts = [...removes].map((name) => alias(name, n++));
    const states = condition.states.map((s, i) => {
      values[`:s${i}`] = s;
      return `:s${i}`;
    });
    let conditionExpression = `attribute_exists(pk) AND #state IN (${states.join(', ')})`;
    if (condition.leaseOwner) {
      names['#leaseOwner'] = 'leaseOwner';
      values[':owner'] = condition.leaseOwner;
      conditionExpression += ' AND #leaseOwner = :owner';
    }
    for (const [i, name] of (condition.absent ?? []).entries()) {
      names[`#a${i}`] = name;
      conditionExpression += ` AND attribute_not_exists(#a${i})`;
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
          ConditionExpression: conditionExpression,
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
          [...sets].every(([name, value]) => canonicalJson(item[name]) === canonicalJson(value)) &&
          [...removes].every((name) => item[name] === undefined);
        if (ours) return jobFromItem(item);
      }
      throw new ConcurrentUpdateError(jobId, 'updating it');
    }
  }

  claimForSubmit(jobId: string, dueAt: number): Promise<Job> {
    return this.update(jobId, { state: 'SUBMITTING', dueAt }, { states: ['QUEUED'] });
  }

  requeue(jobId: string, patch: Pick<JobPatch, 'queuePlace' | 'estimatedStartAt' | 'dueAt'>): Promise<Job> {
    const dropped = { runAttemptedAt: null, runClaim: null, dueAt: null };
    return this.update(jobId, { ...dropped, ...patch, state: 'QUEUED' }, { states: ['SUBMITTING'] });
  }

  async claimCapture(jobId: string, owner: string, nowMs: number, leaseMs: number): Promise<Job | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(jobId),
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ConditionExpression:
            'attribute_exists(pk) AND #state IN (:submitting, :pending) AND ' +
            '(attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':owner': owner,
            ':until': nowMs + leaseMs,
            ':now': nowMs,
            ':submitting': 'SUBMITTING',
            ':pending': 'PENDING',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return jobFromItem(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
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

  async list(request: ListQuery): Promise<ListPage> {
    const cursor = request.cursor ? decodeCursor(request, request.cursor) : undefined;
    // A cursor continues its own listing: the time range of its first page, not one recomputed from "now".
    const query = cursor ? { ...request, from: cursor.f, to: cursor.t } : request;
    const fromMs = Date.parse(query.from);
    const toMs = Date.parse(query.to);
    const lowest = `${encodeTime(fromMs, 10)}0000000000000000`;
    const jobs: Job[] = [];
    let budget = LIST_QUERY_BUDGET;
    let day = cursor?.d ?? dayOf(query.to);
    let below = cursor?.k ?? `${encodeTime(toMs, 10)}ZZZZZZZZZZZZZZZZ`;

    while (day >= dayOf(query.from)) {
      let start: Record<string, unknown> | undefined;
      do {
        if (budget-- <= 0) return { jobs, cursor: encodeCursor(query, day, below) };
        const out = await this.db.send(
          new QueryCommand(this.listQueryInput(query, day, lowest, below, jobs.length, start)),
        );
        for (const item of out.Items ?? []) {
          const job = jobFromItem(item);
          if (job.jobId >= below) continue; // BETWEEN is inclusive; the cursor's own job was already served.
          jobs.push(job);
          below = job.jobId;
          if (jobs.length === query.limit) return { jobs, cursor: encodeCursor(query, day, below) };
        }
        start = out.LastEvaluatedKey;
        if (start && typeof start.jobId === 'string' && start.jobId < below) below = start.jobId as string;
      } while (start);
      day = dayOf(new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString());
      below = 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ';
    }
    return { jobs };
  }

  private listQueryInput(
    query: ListQuery,
    day: string,
    lowest: string,
    below: string,
    collected: number,
    start: Record<string, unknown> | undefined,
  ): QueryCommandInput {
    const index = query.endpoint ? TABLE_INDEXES.byEndpointDay : TABLE_INDEXES.byDay;
    const names: Record<string, string> = { '#pk': index.partitionKey, '#sk': index.sortKey };
    const values: Record<string, unknown> = {
      ':pk': query.endpoint ? `${query.endpoint}#${day}` : day,
      ':lo': lowest,
      ':hi': below,
    };
    const filters: string[] = [];
    if (query.state) {
      names['#state'] = 'state';
      values[':state'] = query.state;
      filters.push('#state = :state');
    }
    if (query.upstreamStatus) {
      names['#upstreamStatus'] = 'upstreamStatus';
      values[':upstreamStatus'] = query.upstreamStatus;
      filters.push('#upstreamStatus = :upstreamStatus');
    }
    if (query.principal) {
      names['#submittedBy'] = 'submittedBy';
      names['#trackedBy'] = 'trackedBy';
      values[':principal'] = query.principal;
      filters.push('(#submittedBy = :principal OR #trackedBy = :principal)');
    }
    if (query.tag) {
      names['#meta'] = 'metadata';
      names['#tag'] = query.tag.key;
      values[':tag'] = query.tag.value;
      filters.push('#meta.#tag = :tag');
    }
    return {
      TableName: this.table,
      IndexName: index.name,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(filters.length && { FilterExpression: filters.join(' AND ') }),
      ScanIndexForward: false,
      // Filters apply after Limit, so read a little more than is still missing.
      Limit: filters.length ? 100 : query.limit - collected + 1,
      ExclusiveStartKey: start,
    };
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

  async claimIdempotencyKey(
    key: string,
    requestHash: string,
    jobId: string,
    expiresAtMs: number,
  ): Promise<IdempotencyClaim> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...idempotencyKeyItem(key), jobId, requestHash, expiresAt: Math.floor(expiresAtMs / 1000) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: idempotencyKeyItem(key), ConsistentRead: true }),
    );
    if (!out.Item) return this.claimIdempotencyKey(key, requestHash, jobId, expiresAtMs);
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
