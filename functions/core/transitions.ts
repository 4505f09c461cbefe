// The job record's named transitions: each one's write, its condition, and its due-index and lease effects, once.
import { ConcurrentUpdateError } from './errors.ts';
import type { Job } from './job.ts';
import { type JobState, LATE_RESULT_FROM, statesLeadingTo } from './job-state.ts';
import type {
  ArchiveFields,
  CaptureClaim,
  JobPatch,
  JobRepository,
  ScheduleFields,
  UpdateCondition,
} from './ports.ts';

/**
 * How long a capture may hold a job. A capture that dies mid-way frees it for the next attempt after this
 * long; a settled job waits the same time for its announcement before the sweeper makes it instead (a
 * writer still inside its lease is still announcing).
 */
export const LEASE_MS = 120_000;
/** A runsync job's capture lease is shorter: SYNC_CAPTURE_LEASE_MS (config.ts). */
/** A settled job is announced by the sweeper once its writer has had a whole lease to do it (see LEASE_MS). */
export const ANNOUNCE_AFTER_MS = LEASE_MS;

const WATCHED: readonly JobState[] = ['SUBMITTING', 'PENDING'];
/** Where a capture may hold a job: watched, or settled without a result and still taking one (job-state.ts). */
const CAPTURABLE: readonly JobState[] = [...WATCHED, ...LATE_RESULT_FROM];

/** One conditional write on a job record: what it sets (`null` removes) and what must hold for it. */
export interface JobTransition {
  name: string;
  patch: JobPatch;
  condition: UpdateCondition;
}

/**
 * Settled: out of the watched states and pending its announcement. It stays due (the sweeper's index) until
 * then, so a writer that dies between the two is followed by the sweeper, which announces it.
 */
const settled = (nowMs: number): JobPatch => ({
  announcePending: true,
  dueAt: nowMs + ANNOUNCE_AFTER_MS,
  leaseOwner: null,
  leaseUntil: null,
});

export const transitions = {
  /** The run claim: of every request sending this job (the first and its client's retries), one calls /run. */
  claimRun: (
    fields: Pick<Job, 'inputKey' | 'inputBytes' | 'runAttemptedAt' | 'runClaim'>,
  ): JobTransition => ({
    name: 'claimRun',
    patch: fields,
    condition: { states: ['SUBMITTING'], absent: ['runAttemptedAt'] },
  }),
  /** The submitter takes a queued job to send it (core/submitter.ts): only one of its deliveries wins. */
  claimForSubmit: (dueAt: number): JobTransition => ({
    name: 'claimForSubmit',
    patch: { state: 'SUBMITTING', dueAt },
    condition: { states: ['QUEUED'] },
  }),
  /** Not started (a 429 on /run, or its start times reached late): the job waits in the queue again, its run claim dropped. */
  requeue: (fields: Pick<JobPatch, 'queuePlace' | 'estimatedStartAt' | 'dueAt'>): JobTransition => ({
    name: 'requeue',
    patch: { runAttemptedAt: null, runClaim: null, dueAt: null, ...fields, state: 'QUEUED' },
    condition: { states: ['SUBMITTING'] },
  }),
  /**
   * A job a submitter claimed from the queue and never took the run claim of (it stopped, and its message is
   * gone): back to QUEUED, due now, for queue recovery to send its message again (queue-recovery.ts). Only while
   * no run claim is taken: a submitter still going on finds the job QUEUED and leaves it to the new message.
   */
  returnToQueue: (dueAt: number): JobTransition => ({
    name: 'returnToQueue',
    patch: { state: 'QUEUED', dueAt },
    condition: { states: ['SUBMITTING'], absent: ['runAttemptedAt'], present: ['queuedAt'] },
  }),
  /** A QUEUED job whose message never reached a submitter is sent again, and due again later (queue-recovery.ts). */
  markResent: (dueAt: number, resends: number): JobTransition => ({
    name: 'markResent',
    patch: { dueAt, queueResends: resends },
    condition: { states: ['QUEUED'] },
  }),
  /** A QUEUED job late because its endpoint met 429s waits on the upstream: due again later, no re-send counted. */
  postponeRecovery: (dueAt: number): JobTransition => ({
    name: 'postponeRecovery',
    patch: { dueAt },
    condition: { states: ['QUEUED'] },
  }),
  /**
   * A request that took the run claim and cannot go on to /run gives it back: the job was never sent, and its
   * client's retry (or the sweeper, as unsent) must be able to tell. The archived input stays.
   */
  releaseRunClaim: (runClaim: string): JobTransition => ({
    name: 'releaseRunClaim',
    patch: { runAttemptedAt: null, runClaim: null },
    condition: { states: ['SUBMITTING'], runClaim },
  }),
  /** /run answered: the upstream has the job (only from SUBMITTING; a webhook may have got there first). */
  markSubmitted: (
    fields: Pick<Job, 'upstreamId' | 'upstreamStatus' | 'submittedAt'>,
    dueAt: number,
  ): JobTransition => ({
    name: 'markSubmitted',
    patch: { ...fields, state: 'PENDING', dueAt },
    condition: { states: ['SUBMITTING'] },
  }),
  /** /run failed in a way that leaves it unknown whether the upstream has the job. */
  markSubmitAmbiguous: (): JobTransition => ({
    name: 'markSubmitAmbiguous',
    patch: { submitAmbiguous: true },
    condition: { states: ['SUBMITTING'] },
  }),
  /** A non-final upstream status: it proves the upstream has the job, so SUBMITTING becomes PENDING. */
  recordStatus: (
    fields: Pick<Job, 'upstreamId' | 'upstreamStatus' | 'submittedAt' | 'lastSeenAt'>,
    dueAt: number,
  ): JobTransition => ({
    name: 'recordStatus',
    patch: { ...fields, state: 'PENDING', dueAt },
    condition: { states: statesLeadingTo('PENDING') },
  }),
  /** Moves a watched job's next look (and records what the look saw, if anything). */
  reschedule: (fields: ScheduleFields): JobTransition => ({
    name: 'reschedule',
    patch: fields,
    condition: { states: WATCHED },
  }),
  /**
   * Takes the capture lease if the job is capturable and the lease is free, run out, or already ours. A job
   * that takes a late result is claimed only once its settling is announced (a watched job never has
   * `announcePending`): the expiry's announcement, which clears the lease, cannot cut a late capture's.
   */
  claimCapture: (owner: string, nowMs: number, leaseMs: number): JobTransition => ({
    name: 'claimCapture',
    patch: { leaseOwner: owner, leaseUntil: nowMs + leaseMs },
    condition: { states: CAPTURABLE, leaseFree: { owner, nowMs }, absent: ['announcePending'] },
  }),
  /** A capture that failed frees its lease at once, so the next webhook or sweep need not wait for it. */
  releaseLease: (owner: string): JobTransition => ({
    name: 'releaseLease',
    patch: { leaseOwner: null, leaseUntil: null },
    condition: { states: CAPTURABLE, leaseOwner: owner },
  }),
  /** The one move to ARCHIVED: only under the capture lease `owner` holds (a late result's too). */
  archive: (owner: string, fields: ArchiveFields, nowMs: number): JobTransition => ({
    name: 'archive',
    patch: { ...fields, state: 'ARCHIVED', ...settled(nowMs) },
    condition: { states: [...statesLeadingTo('ARCHIVED'), ...LATE_RESULT_FROM], leaseOwner: owner },
  }),
  /** The upstream forgot the job before its result was captured. */
  expire: (reason: string, nowMs: number): JobTransition => ({
    name: 'expire',
    patch: { state: 'EXPIRED', expiredAt: new Date(nowMs).toISOString(), reason, ...settled(nowMs) },
    condition: { states: statesLeadingTo('EXPIRED') },
  }),
  /**
   * The job will never run. `unsent`: /run was never called, so only while no retry of its client has taken
   * the run claim since the caller read the job.
   */
  reject: (reason: string, nowMs: number, unsent = false): JobTransition => ({
    name: 'reject',
    // A queued job's kept request (core/queue-recovery.ts) has no use once it is refused.
    patch: {
      state: 'REJECTED',
      rejectedAt: new Date(nowMs).toISOString(),
      reason,
      queuedRequest: null,
      ...settled(nowMs),
    },
    condition: unsent
      ? { states: ['SUBMITTING'], absent: ['runAttemptedAt'] }
      : { states: statesLeadingTo('REJECTED') },
  }),
  /**
   * The sweeper's claim on announcing a leftover: only one announcer, while the announcement is still
   * pending and no live lease is held. Due again when the claim runs out, so a claimer that dies is followed.
   */
  claimAnnouncement: (state: JobState, owner: string, nowMs: number): JobTransition => ({
    name: 'claimAnnouncement',
    patch: { leaseOwner: owner, leaseUntil: nowMs + ANNOUNCE_AFTER_MS, dueAt: nowMs + ANNOUNCE_AFTER_MS },
    condition: { states: [state], present: ['announcePending'], leaseFree: { owner, nowMs } },
  }),
  /** An announcer that could not publish gives its claim up and leaves the job due now, for the next pass. */
  releaseAnnouncement: (state: JobState, owner: string, nowMs: number): JobTransition => ({
    name: 'releaseAnnouncement',
    patch: { leaseOwner: null, leaseUntil: null, dueAt: nowMs },
    condition: { states: [state], present: ['announcePending'], leaseOwner: owner },
  }),
  /**
   * Announced (audit, metric, job event): no longer pending, so no sweeper announces it again. It leaves the
   * due index, unless a background verification look is planned (`verifyAt`).
   */
  markAnnounced: (state: JobState, nowMs: number, verifyAt?: number): JobTransition => ({
    name: 'markAnnounced',
    patch: {
      announcePending: null,
      announcedAt: new Date(nowMs).toISOString(),
      leaseOwner: null,
      leaseUntil: null,
      dueAt: verifyAt ?? null,
      ...(verifyAt !== undefined && { verifyDueAt: verifyAt }),
    },
    condition: { states: [state] },
  }),
  /** When the background verification look at an archived job happens (again). */
  scheduleVerification: (at: number): JobTransition => ({
    name: 'scheduleVerification',
    patch: { dueAt: at, verifyDueAt: at },
    condition: { states: ['ARCHIVED'] },
  }),
  /** The verification look settled it (confirmed, unverifiable, or replaced): it leaves the due index. */
  settleVerification: (fields: JobPatch): JobTransition => ({
    name: 'settleVerification',
    patch: { ...fields, dueAt: null, verifyDueAt: null },
    condition: { states: ['ARCHIVED'] },
  }),
} as const;

/** The transitions as named repository methods (the port), for an adapter that can apply one conditional write. */
export abstract class TransitionRepository
  implements Pick<JobRepository, Exclude<keyof JobRepository, NotTransitions>>
{
  /**
   * Applies one conditional write and returns the new record. ConcurrentUpdateError when the condition fails,
   * carrying the record as it is (`current`) when the store answered with it.
   */
  abstract apply(jobId: string, transition: JobTransition): Promise<Job>;
  abstract get(jobId: string): Promise<Job | undefined>;

  /** The claim answers with the record either way: a capture that lost it needs no read of its own. */
  async claimCapture(jobId: string, owner: string, nowMs: number, leaseMs: number): Promise<CaptureClaim> {
    try {
      return { claimed: true, job: await this.apply(jobId, transitions.claimCapture(owner, nowMs, leaseMs)) };
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError)) throw err;
      const job = (err.current as Job | undefined) ?? (await this.get(jobId));
      return job ? { claimed: false, job } : { claimed: false };
    }
  }

  claimRun(jobId: string, fields: Parameters<typeof transitions.claimRun>[0]) {
    return this.apply(jobId, transitions.claimRun(fields));
  }
  claimForSubmit(jobId: string, dueAt: number) {
    return this.apply(jobId, transitions.claimForSubmit(dueAt));
  }
  requeue(jobId: string, fields: Pick<JobPatch, 'queuePlace' | 'estimatedStartAt' | 'dueAt'>) {
    return this.apply(jobId, transitions.requeue(fields));
  }
  returnToQueue(jobId: string, dueAt: number) {
    return this.apply(jobId, transitions.returnToQueue(dueAt));
  }
  markResent(jobId: string, dueAt: number, resends: number) {
    return this.apply(jobId, transitions.markResent(dueAt, resends));
  }
  postponeRecovery(jobId: string, dueAt: number) {
    return this.apply(jobId, transitions.postponeRecovery(dueAt));
  }
  releaseRunClaim(jobId: string, runClaim: string) {
    return this.apply(jobId, transitions.releaseRunClaim(runClaim));
  }
  markSubmitted(jobId: string, fields: Parameters<typeof transitions.markSubmitted>[0], dueAt: number) {
    return this.apply(jobId, transitions.markSubmitted(fields, dueAt));
  }
  markSubmitAmbiguous(jobId: string) {
    return this.apply(jobId, transitions.markSubmitAmbiguous());
  }
  recordStatus(jobId: string, fields: Parameters<typeof transitions.recordStatus>[0], dueAt: number) {
    return this.apply(jobId, transitions.recordStatus(fields, dueAt));
  }
  reschedule(jobId: string, fields: ScheduleFields) {
    return this.apply(jobId, transitions.reschedule(fields));
  }
  releaseLease(jobId: string, owner: string) {
    return this.apply(jobId, transitions.releaseLease(owner));
  }
  archive(jobId: string, owner: string, fields: ArchiveFields, nowMs: number) {
    return this.apply(jobId, transitions.archive(owner, fields, nowMs));
  }
  expire(jobId: string, reason: string, nowMs: number) {
    return this.apply(jobId, transitions.expire(reason, nowMs));
  }
  reject(jobId: string, reason: string, nowMs: number, options: { unsent?: boolean } = {}) {
    return this.apply(jobId, transitions.reject(reason, nowMs, options.unsent));
  }
  claimAnnouncement(jobId: string, state: JobState, owner: string, nowMs: number) {
    return this.apply(jobId, transitions.claimAnnouncement(state, owner, nowMs));
  }
  releaseAnnouncement(jobId: string, state: JobState, owner: string, nowMs: number) {
    return this.apply(jobId, transitions.releaseAnnouncement(state, owner, nowMs));
  }
  markAnnounced(jobId: string, state: JobState, nowMs: number, verifyAt?: number) {
    return this.apply(jobId, transitions.markAnnounced(state, nowMs, verifyAt));
  }
  scheduleVerification(jobId: string, at: number) {
    return this.apply(jobId, transitions.scheduleVerification(at));
  }
  settleVerification(jobId: string, fields: JobPatch) {
    return this.apply(jobId, transitions.settleVerification(fields));
  }
}

/** The port's methods that are not one transition each (reads, the claim with its read, events, keys). */
type NotTransitions =
  | 'create'
  | 'get'
  | 'appendEvent'
  | 'appendEvents'
  | 'countEvent'
  | 'listEvents'
  | 'listEventPage'
  | 'queryDue'
  | 'list'
  | 'findByUpstream'
  | 'linkUpstream'
  | 'claimIdempotencyKey'
  | 'releaseIdempotencyKey';
