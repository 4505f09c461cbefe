// How jobs, audit events and lookup records are laid out as DynamoDB items.
import type { AuditEvent, Job } from '../core/job.ts';
import { dueShardOf } from '../core/schedule.ts';

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

/** Index attributes derived from the job, so they can never disagree with it. */
export function jobItem(job: Job, shards: number): Record<string, unknown> {
  const day = dayOf(job.createdAt);
  return {
    ...jobKey(job.jobId),
    ...job,
    day,
    endpointDay: `${job.endpoint}#${day}`,
    ...(job.dueAt !== undefined && { dueShard: dueShardValue(job.jobId, shards) }),
  };
}

const BOOKKEEPING = new Set(['pk', 'sk', 'day', 'endpointDay', 'dueShard']);

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
