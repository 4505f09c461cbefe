// The figures a chaos run's checks count, and the violations they found.

export interface Outcome {
  jobsInTable: number;
  byState: Record<string, number>;
  archivedBySource: Record<string, number>;
  upstreamStatuses: Record<string, number>;
  expired: number;
  expectedExpired: number;
  rejected: {
    certainRefusal: number;
    unconfirmed: number;
    notSent: number;
    /** The submit queue did not take the job (QUEUE_UNAVAILABLE): its client was answered 503 and sent it again. */
    queueRefused: number;
    other: number;
  };
  /** Jobs that went through the submit queue (`queuedAt` on the record). */
  queue: {
    /** Logical requests sent queued (POST /jobs with "queue": true, or a batch line), and their jobs in the table. */
    requests: number;
    jobs: number;
    archived: number;
    rejected: number;
    /** `submit.deferred` lines: 429s on /run the submitter met and put back QUEUED. */
    deferred: number;
    /** `submit.resent` lines: lost messages the sweeper's queue recovery sent again. */
    resent: number;
    /** Jobs of the killed submitter's batch whose run claim it took and never sent: settled SUBMIT_UNCONFIRMED. */
    claimedUnsent: number;
  };
  ambiguousSubmits: number;
  /** Ambiguous submits of which the upstream has no trace: SUBMITTING until their job life ends (waiting-out.ts). */
  waitingOutLife: number;
  /** Duplicate deliveries and captures absorbed: the DuplicateCaptures metric and its audit events. */
  duplicates: {
    metric: number;
    webhookDuplicate: number;
    captureDuplicate: number;
    captureConcurrent: number;
  };
  upstreamJobs: number;
  resultBytesChecked: number;
  exactStatusBytes: number;
  lost: number;
  /** Archives whose Job Archived went out twice: their capture was killed after sending it. */
  reannounced: number;
  forgedArchived: number;
  duplicateArchives: number;
  twoGpuJobsForOneRequest: number;
  nonFinal: number;
}

export const emptyOutcome = (upstreamJobs: number): Outcome => ({
  jobsInTable: 0,
  byState: {},
  archivedBySource: {},
  upstreamStatuses: {},
  expired: 0,
  expectedExpired: 0,
  rejected: { certainRefusal: 0, unconfirmed: 0, notSent: 0, queueRefused: 0, other: 0 },
  queue: { requests: 0, jobs: 0, archived: 0, rejected: 0, deferred: 0, resent: 0, claimedUnsent: 0 },
  ambiguousSubmits: 0,
  waitingOutLife: 0,
  duplicates: { metric: 0, webhookDuplicate: 0, captureDuplicate: 0, captureConcurrent: 0 },
  upstreamJobs,
  resultBytesChecked: 0,
  exactStatusBytes: 0,
  lost: 0,
  reannounced: 0,
  forgedArchived: 0,
  duplicateArchives: 0,
  twoGpuJobsForOneRequest: 0,
  nonFinal: 0,
});

export const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** Reasons of a REJECTED job the upstream certainly never took. */
export const CERTAIN_REFUSALS =
  /^(UPSTREAM_RATE_LIMITED|UPSTREAM_UNREACHABLE|UPSTREAM_REFUSED|UPSTREAM_UNAUTHORIZED)/;

/** The submit queue did not take the job: its key was freed and the answer said to retry. */
export const QUEUE_REFUSAL = /^QUEUE_UNAVAILABLE/;

/** Reasons of a REJECTED job whose client sends the request again (the key is free): settle.ts does. */
export const SENT_AGAIN_AFTER = /^(UPSTREAM_RATE_LIMITED|UPSTREAM_UNREACHABLE|QUEUE_UNAVAILABLE)/;
