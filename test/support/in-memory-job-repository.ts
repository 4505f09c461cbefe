// An in-memory JobRepository with the same conditional semantics as the DynamoDB one, for service unit tests.
import { ConcurrentUpdateError, ValidationError } from '../../functions/core/errors.ts';
import type { AuditEvent, Job } from '../../functions/core/job.ts';
import { isWatched } from '../../functions/core/job-state.ts';
import type {
  DueJob,
  EventPage,
  IdempotencyClaim,
  JobPatch,
  JobRepository,
  ListPage,
  ListQuery,
  UpdateCondition,
} from '../../functions/core/ports.ts';
import { dueShardOf } from '../../functions/core/schedule.ts';
import { isStorableNumber } from '../../functions/schemas/upstream.ts';

/** Copies a value as DynamoDB would store it: a number it cannot hold fails the write, as the SDK's does. */
const clone = <T>(v: T): T => {
  const walk = (value: unknown): void => {
    if (typeof value === 'number' && !isStorableNumber(value))
      throw new Error(`Number ${value} cannot be stored (DynamoDB)`);
    if (value !== null && typeof value === 'object') for (const child of Object.values(value)) walk(child);
  };
  walk(v);
  return structuredClone(v);
};

export class InMemoryJobRepository implements JobRepository {
  readonly jobs = new Map<string, Job>();
  readonly events: AuditEvent[] = [];
  /** Tally items by `${jobId}#${type}`, with the id of the event last counted. */
  readonly tallies = new Map<string, AuditEvent & { lastEventId: string }>();
  readonly links = new Map<string, string>();
  readonly idempotency = new Map<string, { jobId: string; requestHash: string }>();

  constructor(readonly shards = 4) {}

  async create(job: Job): Promise<void> {
    if (this.jobs.has(job.jobId)) throw new ConcurrentUpdateError(job.jobId, 'creating it');
    this.jobs.set(job.jobId, clone(job));
  }

  async get(jobId: string): Promise<Job | undefined> {
    const job = this.jobs.get(jobId);
    return job && clone(job);
  }

  async update(jobId: string, patch: JobPatch, condition: UpdateCondition): Promise<Job> {
    const job = this.jobs.get(jobId);
    if (
      !job ||
      !condition.states.includes(job.state) ||
      (condition.leaseOwner && job.leaseOwner !== condition.leaseOwner) ||
      (condition.absent ?? []).some((name) => job[name] !== undefined)
    ) {
      throw new ConcurrentUpdateError(jobId, 'updating it');
    }
    const next: Record<string, unknown> = { ...job };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      if (v === null) delete next[k];
      else next[k] = clone(v);
    }
    if (patch.state && !isWatched(patch.state) && patch.dueAt === undefined) delete next.dueAt;
    this.jobs.set(jobId, next as unknown as Job);
    return clone(next as unknown as Job);
  }

  claimForSubmit(jobId: string, dueAt: number): Promise<Job> {
    return this.update(jobId, { state: 'SUBMITTING', dueAt }, { states: ['QUEUED'] });
  }

  requeue(jobId: string, patch: Pick<JobPatch, 'queuePlace' | 'estimatedStartAt' | 'dueAt'>): Promise<Job> {
    const dropped = { runAttemptedAt: null, runClaim: null, dueAt: null };
    return this.update(jobId, { ...dropped, ...patch, state: 'QUEUED' }, { states: ['SUBMITTING'] });
  }

  async claimCapture(jobId: string, owner: string, nowMs: number, leaseMs: number): Promise<Job | undefined> {
    const job = this.jobs.get(jobId);
    if (!job || !isWatched(job.state)) return undefined;
    if (job.leaseUntil !== undefined && job.leaseUntil >= nowMs && job.leaseOwner !== owner) return undefined;
    job.leaseOwner = owner;
    job.leaseUntil = nowMs + leaseMs;
    return clone(job);
  }

  async appendEvent(event: AuditEvent): Promise<void> {
    this.events.push(clone(event));
  }

  async countEvent(event: AuditEvent, eventId: string): Promise<number> {
    const key = `${event.jobId}#${event.type}`;
    const tally = this.tallies.get(key);
    if (tally?.lastEventId === eventId) return tally.count ?? 1;
    const count = (tally?.count ?? 0) + 1;
    this.tallies.set(key, {
      ...clone(event),
      count,
      firstAt: tally?.firstAt ?? event.at,
      lastEventId: eventId,
    });
    return count;
  }

  async listEvents(jobId: string): Promise<AuditEvent[]> {
    const tallies = [...this.tallies.values()]
      .filter((t) => t.jobId === jobId)
      .sort((a, b) => (a.type < b.type ? -1 : 1))
      .map(({ lastEventId: _id, ...tally }) => tally);
    return [...this.events.filter((e) => e.jobId === jobId), ...tallies].map(clone);
  }

  /** Pages by position; the cursor is the offset, checked like the DynamoDB one's sort key. */
  async listEventPage(jobId: string, limit: number, cursor?: string): Promise<EventPage> {
    const all = await this.listEvents(jobId);
    const start = cursor === undefined ? 0 : Number(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Number.isSafeInteger(start) || start < 0)
      throw new ValidationError('events cursor is not one this API issued', undefined, 'INVALID_CURSOR');
    const events = all.slice(start, start + limit);
    const next = start + events.length;
    return { events, ...(next < all.length && { cursor: Buffer.from(String(next)).toString('base64url') }) };
  }

  eventTypes(jobId: string): string[] {
    return this.events.filter((e) => e.jobId === jobId).map((e) => e.type);
  }

  async queryDue(shard: number, nowMs: number, limit: number): Promise<DueJob[]> {
    return [...this.jobs.values()]
      .filter(
        (j): j is DueJob =>
          j.dueAt !== undefined && j.dueAt <= nowMs && dueShardOf(j.jobId, this.shards) === shard,
      )
      .sort((a, b) => a.dueAt - b.dueAt)
      .slice(0, limit)
      .map(clone);
  }

  async list(query: ListQuery): Promise<ListPage> {
    const matching = [...this.jobs.values()]
      .filter((j) => j.createdAt >= query.from && j.createdAt <= query.to)
      .filter((j) => !query.state || j.state === query.state)
      .filter((j) => !query.upstreamStatus || j.upstreamStatus === query.upstreamStatus)
      .filter((j) => !query.endpoint || j.endpoint === query.endpoint)
      .filter((j) => !query.tag || j.metadata?.[query.tag.key] === query.tag.value)
      .filter((j) => !query.principal || j.submittedBy === query.principal || j.trackedBy === query.principal)
      .filter((j) => !query.cursor || j.jobId < query.cursor)
      .sort((a, b) => (a.jobId < b.jobId ? 1 : -1));
    const page = matching.slice(0, query.limit);
    const last = page.at(-1);
    return { jobs: page.map(clone), ...(matching.length > query.limit && last && { cursor: last.jobId }) };
  }

  async findByUpstream(endpoint: string, upstreamId: string): Promise<string | undefined> {
    return this.links.get(`${endpoint}#${upstreamId}`);
  }

  async linkUpstream(endpoint: string, upstreamId: string, jobId: string): Promise<string> {
    const key = `${endpoint}#${upstreamId}`;
    const existing = this.links.get(key);
    if (existing) return existing;
    this.links.set(key, jobId);
    return jobId;
  }

  async claimIdempotencyKey(key: string, requestHash: string, jobId: string): Promise<IdempotencyClaim> {
    const existing = this.idempotency.get(key);
    if (existing) return { claimed: false, ...existing };
    this.idempotency.set(key, { jobId, requestHash });
    return { claimed: true };
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    if (this.idempotency.get(key)?.jobId === jobId) this.idempotency.delete(key);
  }
}
