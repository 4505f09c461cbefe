// The job state machine, pure: states and allowed transitions as data; conditions derive from it.

export const JOB_STATES = ['QUEUED', 'SUBMITTING', 'PENDING', 'ARCHIVED', 'EXPIRED', 'REJECTED'] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * Allowed transitions. SUBMITTING may jump straight to ARCHIVED: a webhook can beat the write of PENDING,
 * and runsync captures at once. A state may "transition" to itself to record a new upstream status.
 * QUEUED (accepted into the submit queue, not yet sent) moves to SUBMITTING when a submitter claims it, and
 * SUBMITTING goes back to QUEUED only when the upstream certainly refused /run with a 429 (back-pressure).
 */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  QUEUED: ['QUEUED', 'SUBMITTING', 'REJECTED'],
  SUBMITTING: ['SUBMITTING', 'QUEUED', 'PENDING', 'ARCHIVED', 'EXPIRED', 'REJECTED'],
  PENDING: ['PENDING', 'ARCHIVED', 'EXPIRED'],
  ARCHIVED: [],
  EXPIRED: [],
  REJECTED: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The states a job must be in for a move to `to`: the condition of the conditional write. */
export function statesLeadingTo(to: JobState): JobState[] {
  return JOB_STATES.filter((from) => canTransition(from, to));
}

/** A terminal job never changes again: later webhooks and polls are duplicates. */
export function isTerminal(state: JobState): boolean {
  return TRANSITIONS[state].length === 0;
}

/**
 * Terminal states that still take a final result turning up late (a runsync answer, a webhook body archived
 * as delivered): EXPIRED says only that no result was captured before the upstream forgot the job, so a
 * result in hand is archived all the same. Nothing else about them changes: they stay terminal.
 */
export const LATE_RESULT_FROM: readonly JobState[] = ['EXPIRED'];

export function takesLateResult(state: JobState): boolean {
  return LATE_RESULT_FROM.includes(state);
}

/** Jobs the sweeper still watches (they carry the sparse due-index keys). */
export function isWatched(state: JobState): boolean {
  return !isTerminal(state);
}

export function isJobState(value: string): value is JobState {
  return (JOB_STATES as readonly string[]).includes(value);
}
