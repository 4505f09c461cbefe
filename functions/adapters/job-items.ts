// How jobs, audit events and lookup records are laid out as DynamoDB items.
import type { AuditEvent, Job } from '../core/job.ts';
import { dueShardOf } from '../core/schedule.ts';
import { LIST_SHARDS } from './table-definition.ts';

export const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
export const upstreamLinkKey = (endpoint: string, upstreamId: string) => ({
  pk: `UPSTREAM#${endpoint}#${upstreamId}`,
  sk: 'UPSTREAM',
});
export const idempotencyKeyItem = (key: string) => ({ pk: `IDEMPOTENCY#${key}`, sk: 'IDEMPOTENCY' });
export const EVENT_PREFIX = 'EVENT#';
/** A tally sorts after every event of its job ('~' is after the digits of the ISO times). */
export const tallyKey = (jobId: string, type: string) => ({
  pk: jobKey(jobId).pk,
  sk: `${EVENT_PREFIX}~tally#${type}`,
});

export const dayOf = (iso: string) => iso.slice(0, 10);
export const dueShardValue = (jobId: string, shards: number) => `DUE#${dueShardOf(jobId, shards)}`;

/** Which of the LIST_SHARDS partitions of a day a job's listing keys fall in (a different hash seed from due). */
export const listShardOf = (jobId: string) => dueShardOf(`list#${jobId}`, LIST_SHARDS);
const shardSuffix = (shard: number) => String(shard).padStart(2, '0');
/** Partition key values of the listing indexes for one day and shard. */
export const dayShardKey = (day: string, shard: number) => `${day}#${shardSuffix(shard)}`;
export const endpointDayShardKey = (endpoint: string, day: string, shard: number) =>
  `${endpoint}#${day}#${shardSuffix(shard)}`;

/**
 * Index attributes derived from the job, so they can never disagree with it. The listing keys depend only on
 * what never changes (job id, endpoint, creation time), so only the create writes them to their indexes.
 */
export function jobItem(job: Job, shards: number): Record<string, unknown> {
  const day = dayOf(job.createdAt);
  const shard = listShardOf(job.jobId);
  return {
    ...jobKey(job.jobId),
    ...job,
    dayShard: dayShardKey(day, shard),
    endpointDayShard: endpointDayShardKey(job.endpoint, day, shard),
    ...(job.dueAt !== undefined && { dueShard: dueShardValue(job.jobId, shards) }),
  };
}

const BOOKKEEPING = new Set(['pk', 'sk', 'dayShard', 'endpointDayShard', 'dueShard']);

export function jobFromItem(item: Record<string, unknown>): Job {
  const job: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!BOOKKEEPING.has(k)) job[k] = v;
  return job as unknown as Job;
}

export function eventItem(event: AuditEvent, unique: string): Record<string, unknown> {
  return { pk: jobKey(event.jobId).pk, sk: `${EVENT_PREFIX}${event.at}#${unique}`, ...event };
}

export function eventFromItem(item: Record<string, unknown>): AuditEvent {
  // lastEventId: a tally's guard against counting one retried event twice, not part of the event.
  const { pk: _pk, sk: _sk, lastEventId: _last, ...event } = item;
  return event as unknown as AuditEvent;
}
