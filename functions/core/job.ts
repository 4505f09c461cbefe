// The job record and its audit events, as services see them (storage layout lives in the repository adapter).
import type { JobState } from './job-state.ts';

/** Where the archived result came from. `track`, `cancel` and `reconcile` capture at once from a fresh /status. */
export type CaptureSource = 'webhook' | 'sweeper' | 'runsync' | 'track' | 'cancel' | 'reconcile';

/** One file written under the job's artifacts/ prefix. */
export interface ArtifactRef {
  key: string;
  contentType: string;
  bytes: number;
  /** JSON path inside the output the artifact was decoded from, e.g. `output.images[0]`. */
  from: string;
}

/**
 * Where the archived result's bytes came from: `verified` from the upstream's /status (or /runsync) answer,
 * `as-delivered` from a webhook body, which is unsigned and says only what its sender wrote.
 */
export type Provenance = 'verified' | 'as-delivered';

/**
 * Background verification of an as-delivered result (core/verify.ts): `pending` until one /status look;
 * `confirmed` when /status served the same status; `mismatch` when it did not (the /status result is then the
 * archived one, the delivered body kept as evidence); `unverifiable` when the upstream forgot the job first.
 */
export type Verification = 'pending' | 'confirmed' | 'mismatch' | 'unverifiable';

export interface JobPolicy {
  executionTimeout?: number;
  ttl?: number;
  lowPriority?: boolean;
}

export interface Job {
  jobId: string;
  endpoint: string;
  state: JobState;
  /** `submitted` through POST /jobs, `tracked` when adopted from elsewhere. */
  origin: 'submitted' | 'tracked';
  createdAt: string;
  upstreamId?: string;
  /** Last upstream status seen (IN_QUEUE, IN_PROGRESS, COMPLETED, ... or an unknown one, kept as is). */
  upstreamStatus?: string;
  submittedAt?: string;
  /** QUEUED: when the submit queue accepted it. */
  queuedAt?: string;
  /** QUEUED: jobs of its endpoint ahead of it when it was accepted (1 = next). */
  queuePlace?: number;
  /** QUEUED: when its /run is expected, from its place and the endpoint's /run rate. */
  estimatedStartAt?: string;
  /** QUEUED: the request as JSON (when small), so the sweeper can re-send a lost message (core/queue-recovery.ts). */
  queuedRequest?: string;
  /** QUEUED: how many times the sweeper re-sent its message. */
  queueResends?: number;
  /** Set just before /run is called: a SUBMITTING job without it never reached the upstream. */
  runAttemptedAt?: string;
  /** The run claim's token: a request whose claim write landed but lost its answer finds it holds the claim. */
  runClaim?: string;
  /** /run timed out or failed with 5xx: the upstream may or may not have the job. */
  submitAmbiguous?: boolean;
  lastSeenAt?: string;
  finishedAt?: string;
  archivedAt?: string;
  /**
   * Settled and not yet announced (audit, metric, job event): the sweeper announces it if its writer dies
   * first (core/announce.ts). Set by every move to a settled state, removed by markAnnounced.
   */
  announcePending?: boolean;
  /** When its settlement was announced. */
  announcedAt?: string;
  expiredAt?: string;
  rejectedAt?: string;
  captureSource?: CaptureSource;
  /** How the archived result is known (see Provenance); absent on jobs archived before it was recorded. */
  provenance?: Provenance;
  /** Only for as-delivered results under the `background` policy. */
  verification?: Verification;
  verifiedAt?: string;
  /** Epoch ms of the background verification look; set once the archive was announced. */
  verifyDueAt?: number;
  /** sha256 (base64url) of the delivered status's canonical JSON, to compare /status against. */
  deliveredDigest?: string;
  /** After a mismatch: the as-delivered result.json, kept as evidence beside the verified one. */
  evidenceKey?: string;
  delayTime?: number;
  executionTime?: number;
  /** REJECTED: why; ARCHIVED with FAILED: the upstream error, shortened. */
  reason?: string;
  inputKey?: string;
  inputBytes?: number;
  resultKey?: string;
  resultBytes?: number;
  artifacts?: ArtifactRef[];
  metadata?: Record<string, string>;
  policy?: JobPolicy;
  sync?: boolean;
  idempotencyKey?: string;
  /** The IAM principal (ARN) that submitted the job through POST /jobs. */
  submittedBy?: string;
  /** The IAM principal (ARN) that adopted the job through POST /jobs/track. */
  trackedBy?: string;
  /**
   * Epoch ms of the sweeper's next look (the sparse due index). Present while the job is watched, and on a
   * settled job only while it awaits something of the sweeper: its announcement (`announcePending`, due when
   * its writer's lease would have run out) or its background verification look (`verifyDueAt`).
   */
  dueAt?: number;
  /** Number of /status looks so far. */
  looks?: number;
  /** A capture in progress holds this lease; it keeps two writers from archiving one job. */
  leaseOwner?: string;
  leaseUntil?: number;
}

export type AuditEventType =
  | 'created'
  | 'input.archived'
  | 'submitted'
  | 'submit.ambiguous'
  | 'submit.rejected'
  | 'submit.deferred'
  | 'submit.resent'
  | 'tracked'
  | 'webhook.received'
  | 'webhook.duplicate'
  | 'webhook.unusable'
  | 'status.polled'
  | 'status.failed'
  | 'capture.duplicate'
  | 'capture.concurrent'
  | 'artifact.refused'
  | 'artifact.failed'
  | 'archived'
  | 'verification.confirmed'
  | 'verification.mismatch'
  | 'verification.unverifiable'
  | 'expired'
  | 'cancel.requested'
  | 'rejected'
  | 'reconciled'
  | 'links.issued';

/** An append-only fact about a job, kept beside it. */
export interface AuditEvent {
  jobId: string;
  at: string;
  type: AuditEventType;
  source?: CaptureSource | 'api' | 'sweeper';
  detail?: Record<string, unknown>;
  /** The IAM principal (ARN) whose call caused the event; absent for the upstream's and the sweeper's. */
  actor?: string;
  /**
   * On the one item that tallies a repeated event past its first few (audit.ts): how many there were in
   * all; `at` and `detail` are those of the latest, `firstAt` of the first one tallied.
   */
  count?: number;
  firstAt?: string;
}
