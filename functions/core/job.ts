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
  /** Set just before /run is called: a SUBMITTING job without it never reached the upstream. */
  runAttemptedAt?: string;
  /** The run claim's token: a request whose claim write landed but lost its answer finds it holds the claim. */
  runClaim?: string;
  /** /run timed out or failed with 5xx: the upstream may or may not have the job. */
  submitAmbiguous?: boolean;
  lastSeenAt?: string;
  finishedAt?: string;
  archivedAt?: string;
  /** Its settlement was announced (audit, metric, job event): the sweeper never announces it again. */
  announcedAt?: string;
  expiredAt?: string;
  rejectedAt?: string;
  captureSource?: CaptureSource;
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
  /** Epoch ms of the sweeper's next look; present only while the job is watched. */
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
  | 'expired'
  | 'cancel.requested'
  | 'rejected'
  | 'reconciled';

/** An append-only fact about a job, kept beside it. */
export interface AuditEvent {
  jobId: string;
  at: string;
  type: AuditEventType;
  source?: CaptureSource | 'api' | 'sweeper';
  detail?: Record<string, unknown>;
}
