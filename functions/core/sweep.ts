// The sweeper service: looks at every due job, oldest first, so no result outlives the upstream's window.
import { announceLeftover, markAnnounced } from './announce.ts';
import { audit } from './audit.ts';
import { captureResult, publishQuietly } from './capture.ts';
import { ignoreConflict, UpstreamError, UpstreamNotFoundError, UpstreamRateLimitedError } from './errors.ts';
import { scopedIdempotencyKey } from './idempotency.ts';
import type { Job } from './job.ts';
import { isTerminal } from './job-state.ts';
import type { DueJob } from './ports.ts';
import type { QueueDeps } from './queue-ports.ts';
import { BackoffReads, recoverQueued } from './queue-recovery.ts';
import { nextLookAt, retryLookAt, SYNC_PRIORITY_MS, syncLookAt } from './schedule.ts';
import type { ServiceDeps } from './services.ts';
import { sendRecorded } from './submit.ts';
import { awaitsVerification, verifyArchived } from './verify.ts';
import { DEFAULT_JOB_LIFE_MS } from './webhook-token.ts';

export interface SweepSummary {
  due: number;
  polled: number;
  archived: number;
  rescheduled: number;
  expired: number;
  rejected: number;
  /** Jobs left unsent by their requests, sent by this pass (submit.ts sendRecorded). */
  sent: number;
  rateLimited: number;
  errors: number;
  duplicates: number;
  /** True when the pass stopped for time or rate limits with due jobs left for the next run. */
  stoppedEarly: boolean;
  /** How late the most overdue job was when the pass began. */
  oldestDueAgeMs: number;
}

export interface SweepOptions {
  /** Milliseconds left in this invocation (Lambda's context.getRemainingTimeInMillis). */
  remainingMs: () => number;
  /** Polls in flight at once; the upstream client's limiter still caps the rate. */
  concurrency?: number;
  /** How the urgent lane waits between its looks (tests move a clock instead). */
  pause?: (ms: number) => Promise<void>;
  /** The due shards this pass sweeps (its group's, sweep-groups.ts); every shard when absent. */
  shards?: readonly number[];
  /** The submit queue, to re-send the message of a job left QUEUED (core/queue-recovery.ts). */
  queue?: QueueDeps;
}

/** Endpoints that answered 429, each until the time it asked for. */
class EndpointPauses {
  private readonly until = new Map<string, number>();
  constructor(private readonly deps: Pick<ServiceDeps, 'clock' | 'config'>) {}
  add(endpoint: string, retryAfterMs: number): void {
    const wait = Math.max(retryAfterMs, this.deps.config.SWEEP_REPEAT_MS);
    this.until.set(endpoint, this.deps.clock.now() + wait);
  }
  has(endpoint: string): boolean {
    return (this.until.get(endpoint) ?? 0) > this.deps.clock.now();
  }
  /** Any pause taken this pass: the pass ended with due jobs left for the next one. */
  get size(): number {
    return this.until.size;
  }
}

/** The submit queue and this pass's reads of its endpoints' 429 back-off, for the due QUEUED jobs. */
interface QueueLooks {
  queue: QueueDeps;
  backoff: BackoffReads;
}

/** The urgent lane reads this many items from the front of each due shard. */
const URGENT_PER_SHARD = 8;

const emptySummary = (): SweepSummary => ({
  due: 0,
  polled: 0,
  archived: 0,
  rescheduled: 0,
  expired: 0,
  rejected: 0,
  sent: 0,
  rateLimited: 0,
  errors: 0,
  duplicates: 0,
  stoppedEarly: false,
  oldestDueAgeMs: 0,
});

/** One pass: query the due shards, look at each job, repeat until nothing is due or time runs short. */
export async function sweep(deps: ServiceDeps, options: SweepOptions): Promise<SweepSummary> {
  const summary = emptySummary();
  /** When this pass looked at each job: once per pass, but a runsync job again every SWEEP_REPEAT_MS. */
  const seen = new Map<string, number>();
  const pausedEndpoints = new EndpointPauses(deps);
  const concurrency = options.concurrency ?? 32;
  const outOfTime = () => options.remainingMs() < deps.config.SWEEP_SAFETY_MS;
  const pause = options.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const shards = options.shards ?? allShards(deps);
  const dueBatch = (nowMs: number, perShard: number) => dueBatchOf(deps, shards, nowMs, perShard);
  const queued: QueueLooks | undefined = options.queue && {
    queue: options.queue,
    backoff: new BackoffReads(options.queue.runRate, deps.clock),
  };

  let roundsDone = false;
  let roundsEnded: () => void = () => undefined;
  const roundsOver = new Promise<void>((resolve) => {
    roundsEnded = resolve;
  });
  const rounds = async () => {
    for (let round = 0; ; round++) {
      if (outOfTime()) {
        summary.stoppedEarly = true;
        break;
      }
      const nowMs = deps.clock.now();
      const lookedAgo = (j: DueJob) => nowMs - (seen.get(j.jobId) ?? Number.NEGATIVE_INFINITY);
      const fresh = (jobs: DueJob[]) =>
        jobs.filter(
          (j) =>
            !pausedEndpoints.has(j.endpoint) &&
            (!seen.has(j.jobId) || (j.sync === true && lookedAgo(j) >= deps.config.SWEEP_REPEAT_MS)),
        );
      // A fair share per shard reads about one item per job looked at; only when every item read was already
      // seen this pass (jobs held by a capture lease stay due) does a round read deeper, so none is starved.
      let batch = fresh(await dueBatch(nowMs, Math.ceil(deps.config.SWEEP_BATCH / shards.length)));
      if (batch.length === 0 && seen.size > 0) batch = fresh(await dueBatch(nowMs, deps.config.SWEEP_BATCH));
      // Runsync jobs sort ahead on purpose (schedule.ts): the lag is the oldest of the others.
      const oldest = batch.find((j) => !j.sync);
      if (round === 0 && oldest) summary.oldestDueAgeMs = Math.max(0, nowMs - oldest.dueAt);
      if (batch.length === 0) break;
      summary.due += batch.length;
      for (const job of batch) seen.set(job.jobId, nowMs);

      let next = 0;
      const worker = async () => {
        while (next < batch.length && !outOfTime()) {
          const job = batch[next++];
          if (!job || pausedEndpoints.has(job.endpoint)) continue;
          await look(deps, job, summary, pausedEndpoints, queued);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
    }
    roundsDone = true;
    roundsEnded();
  };

  // Beside the rounds, every SWEEP_REPEAT_MS: the jobs at the very front of the due index (runsync jobs, and
  // any job ten minutes overdue) are looked at again without waiting for a long round to end.
  const urgentLane = async () => {
    while (!roundsDone && !outOfTime()) {
      await Promise.race([pause(deps.config.SWEEP_REPEAT_MS), roundsOver]);
      if (roundsDone) break;
      const nowMs = deps.clock.now();
      const urgent = await dueBatch(nowMs - SYNC_PRIORITY_MS, URGENT_PER_SHARD).catch(() => []);
      for (const job of urgent) {
        const lookedAt = seen.get(job.jobId) ?? Number.NEGATIVE_INFINITY;
        if (roundsDone || pausedEndpoints.has(job.endpoint)) continue;
        if (nowMs - lookedAt < deps.config.SWEEP_REPEAT_MS) continue;
        seen.set(job.jobId, nowMs);
        await look(deps, job, summary, pausedEndpoints, queued);
      }
    }
  };
  await Promise.all([rounds(), urgentLane()]);
  if (pausedEndpoints.size > 0) summary.stoppedEarly = true;
  deps.metrics.gauge('OldestDueAgeMs', summary.oldestDueAgeMs, 'Milliseconds');
  deps.logger.info('sweep done', { ...summary });
  return summary;
}

/** Every due shard's number. */
export const allShards = (deps: Pick<ServiceDeps, 'config'>) =>
  Array.from({ length: deps.config.DUE_SHARDS }, (_, i) => i);

/** Oldest-first merge of the shards' due jobs, `perShard` from each; every item read is looked at. */
async function dueBatchOf(
  deps: ServiceDeps,
  shards: readonly number[],
  nowMs: number,
  perShard: number,
): Promise<DueJob[]> {
  const pages = await Promise.all(shards.map((s) => deps.jobs.queryDue(s, nowMs, perShard)));
  return pages.flat().sort((a, b) => a.dueAt - b.dueAt);
}

async function look(
  deps: ServiceDeps,
  job: DueJob,
  summary: SweepSummary,
  paused: EndpointPauses,
  queued?: QueueLooks,
): Promise<void> {
  try {
    if (job.state === 'QUEUED') {
      if (queued) await recoverQueued(deps, queued.queue, job, { backoff: queued.backoff });
      return;
    }
    // Archived as a webhook delivered it, awaiting its one /status look (core/verify.ts).
    if (awaitsVerification(job)) {
      await verifyArchived(deps, job, { summary, paused });
      return;
    }
    if (isTerminal(job.state)) {
      // Settled, but whoever settled it stopped before announcing it.
      await announceLeftover(deps, job);
      return;
    }
    if (!job.upstreamId) {
      await settleUnsubmitted(deps, job, summary, queued?.queue);
      return;
    }
    if ((job.leaseUntil ?? 0) > deps.clock.now()) {
      // A capture holds the job (or held it when it died): a poll now could not archive it. The job keeps its
      // place at the front of the queue, so the first pass after the lease runs out takes it.
      summary.duplicates++;
      return;
    }
    summary.polled++;
    deps.metrics.count('StatusPolls');
    const askedAt = deps.clock.now();
    const fetched = await deps.upstream.status(job.endpoint, job.upstreamId);
    const outcome = await captureResult(deps, job, {
      status: fetched.status,
      raw: fetched.raw,
      source: 'sweeper',
      askedAt,
    });
    if (outcome.kind === 'archived') summary.archived++;
    else if (outcome.kind === 'rescheduled') {
      summary.rescheduled++;
      if (job.sync) await keepSyncAhead(deps, job);
    } else summary.duplicates++;
  } catch (err) {
    if (err instanceof UpstreamNotFoundError) return expireOrRetry(deps, job, summary);
    if (err instanceof UpstreamRateLimitedError) {
      // Back off on that endpoint for what it asked (at least SWEEP_REPEAT_MS), not the rest of a long pass: a
      // runsync result may not outlive that. The job stays due.
      summary.rateLimited++;
      deps.metrics.count('UpstreamRateLimited');
      paused.add(job.endpoint, err.retryAfterMs);
      return;
    }
    summary.errors++;
    deps.metrics.count('StatusPollErrors');
    const code = err instanceof UpstreamError ? err.code : String(err);
    deps.logger.warn('look failed', { jobId: job.jobId, endpoint: job.endpoint, code });
    await audit(deps, job.jobId, 'status.failed', 'sweeper', { code });
    const looks = (job.looks ?? 0) + 1;
    const nowMs = deps.clock.now();
    await deps.jobs
      .reschedule(job.jobId, {
        dueAt: job.sync
          ? syncLookAt(nowMs)
          : retryLookAt(nowMs, deps.config, looks, deps.config.lookMarginMs),
        looks,
      })
      .catch(ignoreConflict);
  }
}

/** A runsync job still running stays ahead of the backlog, looked at on every pass (schedule.ts). */
async function keepSyncAhead(deps: ServiceDeps, job: Job): Promise<void> {
  await deps.jobs.reschedule(job.jobId, { dueAt: syncLookAt(deps.clock.now()) }).catch(ignoreConflict);
}

/** 404: gone upstream. Young jobs get another look (the upstream may not list them yet); old ones expire. */
async function expireOrRetry(deps: ServiceDeps, job: Job, summary: SweepSummary): Promise<void> {
  const nowMs = deps.clock.now();
  const since = Date.parse(job.submittedAt ?? job.createdAt);
  if (nowMs - since < deps.config.NOT_FOUND_GRACE_MS) {
    summary.rescheduled++;
    await deps.jobs
      .reschedule(job.jobId, { dueAt: nowMs + Math.max(1000, deps.config.NOT_FOUND_GRACE_MS / 4) })
      .catch(ignoreConflict);
    return;
  }
  // Pending its announcement until markAnnounced (announce.ts): an expiry must never go unalarmed.
  const expired = await deps.jobs
    .expire(job.jobId, 'upstream answered 404 before the result was captured', nowMs)
    .catch(ignoreConflict);
  if (!expired) return;
  summary.expired++;
  deps.metrics.count('JobsExpired', 1, { endpoint: job.endpoint });
  const { jobId, endpoint, upstreamId } = job;
  deps.logger.error('job expired before capture', { jobId, endpoint, upstreamId });
  await audit(deps, job.jobId, 'expired', 'sweeper', { upstreamStatus: job.upstreamStatus ?? null });
  await publishQuietly(deps, 'Job Expired', expired);
  await markAnnounced(deps, expired);
}

/**
 * A SUBMITTING job without an upstream id: either /run was never called (a crash), or its answer was lost
 * (ambiguous). The first is rejected once stale; the second waits for its webhook until the upstream's
 * longest job life has passed, because the upstream may well be running it.
 */
async function settleUnsubmitted(
  deps: ServiceDeps,
  job: Job,
  summary: SweepSummary,
  queue?: QueueDeps,
): Promise<void> {
  const nowMs = deps.clock.now();
  const patienceEndsAt = unsubmittedPatienceEndsAt(deps, job);
  if (nowMs < patienceEndsAt) {
    summary.rescheduled++;
    // No status call is made for it: looked at again when its patience ends, or a look interval on.
    const dueAt = Math.min(nextLookAt(nowMs, deps.config, job.jobId), patienceEndsAt);
    await deps.jobs.reschedule(job.jobId, { dueAt }).catch(ignoreConflict);
    return;
  }
  // Taken from the queue by a submitter that stopped before its run claim, its message gone with it: the
  // client was told QUEUED, so it goes back to the queue (re-sent, within the re-send budget), not REJECTED.
  if (!job.runAttemptedAt && job.queuedAt && queue) {
    await requeueUnsent(deps, queue, job);
    return;
  }
  // Its run claim given back unsent, perhaps after a retry of its client was told 202: sent now instead.
  if (!job.runAttemptedAt && (await sendUnsent(deps, job, summary))) return;
  const reason = job.runAttemptedAt
    ? 'SUBMIT_UNCONFIRMED: /run gave no answer and no webhook came within the job life'
    : 'SUBMIT_NOT_SENT: the submit stopped before /run was called';
  // Never sent: only while no retry of its client has taken the run claim since this look read the job.
  const rejected = await deps.jobs
    .reject(job.jobId, reason, nowMs, { unsent: !job.runAttemptedAt })
    .catch(ignoreConflict);
  if (!rejected) return;
  // Never sent: the client's retry with the same Idempotency-Key must be free to try again.
  if (!job.runAttemptedAt && job.idempotencyKey)
    await deps.jobs.releaseIdempotencyKey(
      scopedIdempotencyKey(job.idempotencyKey, job.submittedBy),
      job.jobId,
    );
  summary.rejected++;
  deps.metrics.count('JobsRejected', 1, { endpoint: job.endpoint });
  await audit(deps, job.jobId, 'rejected', 'sweeper', { reason });
  await publishQuietly(deps, 'Job Rejected', rejected);
  await markAnnounced(deps, rejected);
}

/**
 * When a SUBMITTING job without an upstream id may be settled. After a /run attempt: once the upstream would have
 * forgotten any job it started, counted from the attempt (a queued job may have waited long before it) plus the
 * longest the request could have been on its way. Never attempted: SUBMIT_STALE_MS after it was created; a
 * queued job taken late is safe too, as the submitter's take sets its dueAt SUBMIT_STALE_MS on.
 */
function unsubmittedPatienceEndsAt(deps: ServiceDeps, job: Job): number {
  if (!job.runAttemptedAt) return Date.parse(job.createdAt) + deps.config.SUBMIT_STALE_MS;
  const life = (job.policy?.ttl ?? DEFAULT_JOB_LIFE_MS) + deps.config.RETENTION_MS;
  return Date.parse(job.runAttemptedAt) + deps.config.UPSTREAM_TIMEOUT_MS + life;
}

/** A job claimed from the queue and left unsent: QUEUED again and its message re-sent (queue-recovery.ts). */
async function requeueUnsent(deps: ServiceDeps, queue: QueueDeps, job: Job): Promise<void> {
  const returned = await deps.jobs.returnToQueue(job.jobId, deps.clock.now()).catch(ignoreConflict);
  if (!returned) return;
  deps.logger.warn('queued job left unsent by its submitter, returned to the queue', { jobId: job.jobId });
  await recoverQueued(deps, queue, returned, { fresh: true });
}

/** Sends a job left unsent with its input archived (submit.ts sendRecorded); false if it cannot be. */
async function sendUnsent(deps: ServiceDeps, job: Job, summary: SweepSummary): Promise<boolean> {
  try {
    const sent = await sendRecorded(deps, job);
    if (!sent) return false;
    summary.sent++;
    deps.logger.warn('job left unsent by its requests, sent by the sweeper', { jobId: job.jobId });
    return true;
  } catch (err) {
    // A certain refusal or an ambiguous answer is recorded on the job as for any submit (submit.ts).
    if (!(err instanceof UpstreamError)) throw err;
    summary.sent++;
    return true;
  }
}
