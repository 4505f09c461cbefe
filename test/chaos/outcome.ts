// The figures a chaos run's checks count, and the violations they found.

export interface Outcome {
  jobsInTable: number;
  byState: Record<string, number>;
  archivedBySource: Record<string, number>;
  upstreamStatuses: Record<string, number>;
  expired: number;
  expectedExpired: number;
  rejected: { certainRefusal: number; unconfirmed: number; notSent: number; other: number };
  ambiguousSubmits: number;
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
  rejected: { certainRefusal: 0, unconfirmed: 0, notSent: 0, other: 0 },
  ambiguousSubmits: 0,
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
