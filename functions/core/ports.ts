// The adapters the services need, as interfaces; DynamoDB, S3 and EventBridge implement them in adapters/.
import type { AuditEvent, Job } from './job.ts';
import type { JobState } from './job-state.ts';

/** Fields to set on a job; `null` removes the attribute. */
export type JobPatch = { [K in keyof Job]?: Job[K] | null };

export interface UpdateCondition {
  /** The job must be in one of these states. */
  states: readonly JobState[];
  /** The job must hold this capture lease. */
  leaseOwner?: string;
  /** The job must not have these fields yet (e.g. `runAttemptedAt`: only one request may call /run). */
  absent?: readonly (keyof Job)[];
}

export interface DueJob extends Job {
  dueAt: number;
}

export interface ListQuery {
  /** Inclusive ISO bounds on creation time. */
  from: string;
  to: string;
  state?: JobState;
  upstreamStatus?: string;
  endpoint?: string;
  tag?: { key: string; value: string };
  /** Jobs submitted or tracked by this principal (an IAM ARN). */
  principal?: string;
  limit: number;
  cursor?: string;
  /**
   * The bounds the client gave (absent: defaulted). A cursor keeps these: it may not widen them, and a
   * defaulted range may not grow past its default length.
   */
  requested?: { from?: string; to?: string };
}

export interface ListPage {
  jobs: Job[];
  /** Present when more may follow; opaque to clients. */
  cursor?: string;
}

export interface EventPage {
  events: AuditEvent[];
  /** Present when more may follow; opaque to clients. */
  cursor?: string;
}

export type IdempotencyClaim = { claimed: true } | { claimed: false; jobId: string; requestHash: string };

export interface JobRepository {
  /** Creates the job; fails with ConcurrentUpdateError if the id exists. */
  create(job: Job): Promise<void>;
  get(jobId: string): Promise<Job | undefined>;
  /** Conditional update; throws ConcurrentUpdateError when the condition fails. Returns the new record. */
  update(jobId: string, patch: JobPatch, condition: UpdateCondition): Promise<Job>;
  /** Takes the capture lease if the job is watched and the lease is free, expired or already ours. */
  claimCapture(jobId: string, owner: string, nowMs: number, leaseMs: number): Promise<Job | undefined>;
  /** Appends once per `eventId`: a retry with the same id never writes the event twice. */
  appendEvent(event: AuditEvent, eventId?: string): Promise<void>;
  /**
   * Counts one more of a repeated event on the job's single tally item for its type (keeping it as the
   * latest), and returns how many there are in all. A retry with the same `eventId` is not counted twice.
   */
  countEvent(event: AuditEvent, eventId: string): Promise<number>;
  /** Every event of the job, oldest first, then the tallies of repeated events. */
  listEvents(jobId: string): Promise<AuditEvent[]>;
  /** One page of listEvents (at most `limit` items read), and a cursor when more may follow. */
  listEventPage(jobId: string, limit: number, cursor?: string): Promise<EventPage>;
  /** Jobs of one due shard with dueAt ≤ nowMs, oldest first. */
  queryDue(shard: number, nowMs: number, limit: number): Promise<DueJob[]>;
  list(query: ListQuery): Promise<ListPage>;
  /** The job that tracks `{endpoint, upstreamId}`, if any. */
  findByUpstream(endpoint: string, upstreamId: string): Promise<string | undefined>;
  /** Links `{endpoint, upstreamId}` to a job once; returns the job id that holds the link. */
  linkUpstream(endpoint: string, upstreamId: string, jobId: string): Promise<string>;
  claimIdempotencyKey(
    key: string,
    requestHash: string,
    jobId: string,
    expiresAtMs: number,
  ): Promise<IdempotencyClaim>;
  releaseIdempotencyKey(key: string, jobId: string): Promise<void>;
  /**
   * A submitter takes a QUEUED job to send it: QUEUED -> SUBMITTING, due at `dueAt` for the sweeper should
   * the submitter stop. ConcurrentUpdateError when it is no longer QUEUED (another delivery took it).
   */
  claimForSubmit(jobId: string, dueAt: number): Promise<Job>;
  /**
   * The upstream refused /run with a 429: SUBMITTING -> QUEUED with the run claim dropped (the upstream
   * certainly has no job), so the next delivery may send it. ConcurrentUpdateError if it moved on.
   */
  requeue(jobId: string, patch: Pick<JobPatch, 'queuePlace' | 'estimatedStartAt' | 'dueAt'>): Promise<Job>;
}

export interface StoredObject {
  key: string;
  bytes: number;
}

export interface ArchiveStore {
  /** Writes a JSON document; bodies over a few MB are streamed as multipart uploads. */
  putJson(
    key: string,
    body: Uint8Array | readonly Uint8Array[],
    metadata?: Record<string, string>,
  ): Promise<StoredObject>;
  putBinary(key: string, body: Uint8Array, contentType: string): Promise<StoredObject>;
  /** A presigned GET URL valid for `ttlSeconds`. */
  presignGet(key: string, ttlSeconds: number, downloadName?: string): Promise<string>;
}

/** `Job Verified`: a background verification settled an as-delivered result (confirmed or replaced). */
export type JobEventType = 'Job Archived' | 'Job Expired' | 'Job Rejected' | 'Job Verified';

export interface EventPublisher {
  publish(type: JobEventType, job: Job): Promise<void>;
}

export type MetricName =
  | 'JobsSubmitted'
  | 'JobsArchived'
  | 'JobsExpired'
  | 'JobsRejected'
  | 'DuplicateCaptures'
  | 'WebhooksReceived'
  | 'WebhooksRejected'
  | 'WebhooksUnusable'
  | 'AmbiguousSubmits'
  | 'StatusPolls'
  | 'StatusPollErrors'
  | 'UpstreamRateLimited'
  | 'ArchivedBytes'
  | 'OldestDueAgeMs'
  | 'EventPublishFailures'
  | 'ArtifactFetchFailures'
  | 'VerificationsConfirmed'
  | 'VerificationMismatches'
  | 'VerificationsUnverifiable';

export interface Metrics {
  count(name: MetricName, value?: number): void;
  gauge(name: MetricName, value: number, unit: 'Milliseconds' | 'Bytes' | 'Count'): void;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** An image fetched from a URL found in an output, or why not. */
export type FetchedImage =
  | { ok: true; body: Uint8Array; contentType: string; ext: string }
  | { ok: false; outcome: 'refused' | 'failed'; reason: string };

/**
 * Fetches image URLs found in outputs, under an SSRF guard (adapters/url-fetcher). Never throws:
 * `refused` when the policy forbids the URL, `failed` when an allowed fetch did not work.
 */
export interface UrlFetcher {
  fetchImage(url: string): Promise<FetchedImage>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
