// The adapters the services need, as interfaces; DynamoDB, S3 and EventBridge implement them in adapters/.
import type { AuditEvent, Job } from './job.ts';
import type { JobState } from './job-state.ts';

/** Fields to set on a job; `null` removes the attribute. */
export type JobPatch = { [K in keyof Job]?: Job[K] | null };

/** What must hold for a transition's write (core/transitions.ts builds them; adapters apply them). */
export interface UpdateCondition {
  /** The job must be in one of these states. */
  states: readonly JobState[];
  /** The job must hold this capture lease. */
  leaseOwner?: string;
  /** The lease must be absent, run out by `nowMs`, or already held by `owner`. */
  leaseFree?: { owner: string; nowMs: number };
  /** The job must not have these fields yet (e.g. `runAttemptedAt`: only one request may call /run). */
  absent?: readonly (keyof Job)[];
  /** The job must have these fields (e.g. `announcePending`: only a pending announcement is claimed). */
  present?: readonly (keyof Job)[];
  /** The job must hold this run claim (`runClaim`): only the request that took it gives it back. */
  runClaim?: string;
}

/** A watched job's next look, and what the look saw. */
export interface ScheduleFields {
  dueAt: number;
  looks?: number;
  lastSeenAt?: string;
  upstreamStatus?: string;
}

/** What the move to ARCHIVED records (the state, the announcement marker and the lease are the transition's). */
export type ArchiveFields = Omit<
  JobPatch,
  'state' | 'dueAt' | 'announcePending' | 'announcedAt' | 'leaseOwner' | 'leaseUntil'
>;

/** The capture lease, and the record as the claim found it either way (absent: no such job). */
export type CaptureClaim = { claimed: true; job: Job } | { claimed: false; job?: Job };

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

export interface IdempotencyRequest {
  key: string;
  requestHash: string;
  jobId: string;
  nowMs: number;
  /** The claim blocks other requests with the key until then, and no longer (not until TTL deletion). */
  expiresAtMs: number;
}

/**
 * The job store. Every write to a job record is a named transition (core/transitions.ts) that owns its
 * condition and its due-index and lease effects; callers never compose a patch of their own.
 */
export interface JobRepository {
  /** Creates the job; fails with ConcurrentUpdateError if the id exists. */
  create(job: Job): Promise<void>;
  get(jobId: string): Promise<Job | undefined>;
  /** SUBMITTING, run not yet claimed → the run claim is this request's (the input archived beside it). */
  claimRun(
    jobId: string,
    fields: Pick<Job, 'inputKey' | 'inputBytes' | 'runAttemptedAt' | 'runClaim'>,
  ): Promise<Job>;
  /** Gives back this request's run claim (`runClaim`) unsent, so its client's retry sends the job. */
  releaseRunClaim(jobId: string, runClaim: string): Promise<Job>;
  /** SUBMITTING → PENDING with /run's answer, due at the first look. */
  markSubmitted(
    jobId: string,
    fields: Pick<Job, 'upstreamId' | 'upstreamStatus' | 'submittedAt'>,
    dueAt: number,
  ): Promise<Job>;
  markSubmitAmbiguous(jobId: string): Promise<Job>;
  /** SUBMITTING or PENDING → PENDING with a non-final status seen, due at the next look. */
  recordStatus(
    jobId: string,
    fields: Pick<Job, 'upstreamId' | 'upstreamStatus' | 'submittedAt' | 'lastSeenAt'>,
    dueAt: number,
  ): Promise<Job>;
  /** A watched job's next look. */
  reschedule(jobId: string, fields: ScheduleFields): Promise<Job>;
  /**
   * Takes the capture lease if the job is watched (or takes a late result, its expiry announced) and the
   * lease is free, expired or already ours.
   */
  claimCapture(jobId: string, owner: string, nowMs: number, leaseMs: number): Promise<CaptureClaim>;
  releaseLease(jobId: string, owner: string): Promise<Job>;
  /** → ARCHIVED under the lease `owner` holds; pending its announcement (still due) until markAnnounced. */
  archive(jobId: string, owner: string, fields: ArchiveFields, nowMs: number): Promise<Job>;
  /** → EXPIRED, pending its announcement. */
  expire(jobId: string, reason: string, nowMs: number): Promise<Job>;
  /** → REJECTED, pending its announcement; `unsent` only while no request has claimed the run. */
  reject(jobId: string, reason: string, nowMs: number, options?: { unsent?: boolean }): Promise<Job>;
  /** The sweeper's claim on announcing a settled job its writer left pending. */
  claimAnnouncement(jobId: string, state: JobState, owner: string, nowMs: number): Promise<Job>;
  releaseAnnouncement(jobId: string, state: JobState, owner: string, nowMs: number): Promise<Job>;
  /** Announced: no longer pending; out of the due index unless a verification look is planned at `verifyAt`. */
  markAnnounced(jobId: string, state: JobState, nowMs: number, verifyAt?: number): Promise<Job>;
  scheduleVerification(jobId: string, at: number): Promise<Job>;
  /** The verification settled (its fields), the job leaves the due index. */
  settleVerification(jobId: string, fields: JobPatch): Promise<Job>;
  /** Appends once per `eventId`: a retry with the same id never writes the event twice. */
  appendEvent(event: AuditEvent, eventId?: string): Promise<void>;
  /** Appends several events of one job in one request, each once per its id (as appendEvent). */
  appendEvents(events: ReadonlyArray<{ event: AuditEvent; eventId: string }>): Promise<void>;
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
  /** Claims the key unless another request holds it unexpired; a claim naming `jobId` is ours already. */
  claimIdempotencyKey(request: IdempotencyRequest): Promise<IdempotencyClaim>;
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
  /**
   * A job claimed from the queue with no run claim taken, its submitter gone: SUBMITTING -> QUEUED, due at
   * `dueAt`, for queue recovery. ConcurrentUpdateError once a run claim is taken (it is being sent).
   */
  returnToQueue(jobId: string, dueAt: number): Promise<Job>;
  /** A QUEUED job whose message is re-sent (core/queue-recovery.ts): due again later, the re-sends counted. */
  markResent(jobId: string, dueAt: number, resends: number): Promise<Job>;
  /** A QUEUED job waiting out its endpoint's 429 back-off: due again later, no re-send counted. */
  postponeRecovery(jobId: string, dueAt: number): Promise<Job>;
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
  putBinary(
    key: string,
    body: Uint8Array | readonly Uint8Array[],
    contentType: string,
  ): Promise<StoredObject>;
  /** A JSON document as parsed, or undefined when there is none under `key`. */
  readJson(key: string): Promise<unknown>;
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
  | 'LateStartsTraded'
  | 'ArchivedBytes'
  | 'OldestDueAgeMs'
  | 'EventPublishFailures'
  | 'ArtifactFetchFailures'
  | 'VerificationsConfirmed'
  | 'VerificationMismatches'
  | 'VerificationsUnverifiable';

/** What a data point is about beyond the service: the endpoint of the job it counts, where there is one. */
export interface MetricScope {
  endpoint?: string;
}

/** Data points of one invocation (or one container outside an invocation); batched until it is flushed. */
export interface Metrics {
  count(name: MetricName, value?: number, scope?: MetricScope): void;
  gauge(name: MetricName, value: number, unit: 'Milliseconds' | 'Bytes' | 'Count', scope?: MetricScope): void;
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
