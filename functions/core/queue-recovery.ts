// A QUEUED job whose message never came (lost between record and send, dead-lettered, a local restart): re-sent, or rejected.
import type { SubmitRequest } from '../schemas/api.ts';
import { audit } from './audit.ts';
import { pauseEnd } from './endpoint-backoff.ts';
import { rejectUnqueued } from './enqueue.ts';
import { ignoreConflict } from './errors.ts';
import type { Job } from './job.ts';
import type { QueueDeps, RunRate } from './queue-ports.ts';
import type { ServiceDeps } from './services.ts';

/** Re-sends before a job is given up as lost; the wait doubles each time (margin, 2×, 4× ...). */
export const QUEUE_MAX_RESENDS = 3;

/** Requests up to this size are kept on the QUEUED record so a lost message can be sent again. */
export const RESENDABLE_REQUEST_BYTES = 32 * 1024;

/**
 * When a QUEUED job should have left the queue: its estimated start plus the margin, doubled per re-send. A
 * job still QUEUED then is due to the sweeper, which re-sends its message.
 */
export function queuedDueAt(
  deps: Pick<ServiceDeps, 'config'>,
  estimatedStartMs: number,
  resends = 0,
): number {
  return estimatedStartMs + deps.config.QUEUE_RECOVERY_MARGIN_MS * 2 ** resends;
}

/** How long one read of an endpoint's back-off serves the looks of a sweep pass. */
export const BACKOFF_READ_MS = 1000;

/**
 * The end of each endpoint's last 429 pause, read at most once a second per endpoint: a pass over thousands of
 * due QUEUED jobs of one endpoint would otherwise read its one hot rate item thousands of times. A pause that
 * begins within the second costs at most one counted re-send, which the re-send budget absorbs.
 */
export class BackoffReads {
  private readonly reads = new Map<string, { at: number; until: Promise<number | undefined> }>();
  constructor(
    private readonly runRate: Pick<RunRate, 'lastPause'>,
    private readonly clock: ServiceDeps['clock'],
  ) {}
  pausedUntil(endpoint: string): Promise<number | undefined> {
    const nowMs = this.clock.now();
    const read = this.reads.get(endpoint);
    if (read && nowMs - read.at < BACKOFF_READ_MS) return read.until;
    // An unreadable rate item counts as no pause: the job is re-sent, which is harmless.
    const until = this.runRate
      .lastPause(endpoint)
      .then(pauseEnd)
      .catch(() => undefined);
    this.reads.set(endpoint, { at: nowMs, until });
    return until;
  }
}

/** The request as kept on the record (JSON), or undefined when too large to keep. */
export function resendableRequest(request: SubmitRequest): string | undefined {
  const json = JSON.stringify(request);
  return Buffer.byteLength(json) <= RESENDABLE_REQUEST_BYTES ? json : undefined;
}

/**
 * The sweeper's look at a due QUEUED job. While its endpoint is backing off from 429s it is only due again
 * later (it is waiting, not lost). Otherwise its message is re-sent: a second message is harmless: the submitter claims QUEUED → SUBMITTING
 * once and /run is behind the run claim. After QUEUE_MAX_RESENDS re-sends, or with no request kept (too large),
 * the job is REJECTED with the reason and its Idempotency-Key freed, so the client's retry really tries again.
 * `fresh`: `due` is the record as this pass just wrote it (returnToQueue), so it is not read again.
 * `backoff`: the pass's shared reads of the endpoints' pauses.
 */
export async function recoverQueued(
  deps: ServiceDeps,
  queue: QueueDeps,
  due: Job,
  {
    fresh = false,
    backoff = new BackoffReads(queue.runRate, deps.clock),
  }: { fresh?: boolean; backoff?: BackoffReads } = {},
): Promise<'resent' | 'rejected' | 'waiting' | 'gone'> {
  // The due index may lag the record: a job read from it is read again before anything is decided.
  const job = fresh ? due : await deps.jobs.get(due.jobId);
  if (job?.state !== 'QUEUED') return 'gone';
  const resends = job.queueResends ?? 0;
  const nowMs = deps.clock.now();
  if (!fresh) {
    // An endpoint that met 429s lately started fewer jobs than the estimates promised: a job late then is
    // waiting on the upstream, its message going round the queue, not lost. Re-sends are counted only for jobs
    // late with the endpoint flowing, so a long queue-full upstream never turns waiting jobs into QUEUE_LOST.
    const pausedUntil = await backoff.pausedUntil(job.endpoint);
    if (pausedUntil !== undefined && pausedUntil > nowMs - deps.config.QUEUE_RECOVERY_MARGIN_MS) {
      const dueAt = queuedDueAt(deps, Math.max(nowMs, pausedUntil), resends);
      const moved = await deps.jobs.postponeRecovery(job.jobId, dueAt).catch(ignoreConflict);
      if (!moved) return 'gone';
      deps.logger.info("queued job waits on its endpoint's 429 back-off", { jobId: job.jobId, pausedUntil });
      return 'waiting';
    }
  }
  const request = job.queuedRequest;
  if (request === undefined || resends >= QUEUE_MAX_RESENDS) {
    const why =
      request === undefined
        ? 'its submit message was lost and the request was too large to keep for a re-send'
        : `its submit message was re-sent ${resends} times and never sent to the upstream`;
    await rejectUnqueued(
      deps,
      queue,
      job,
      `job ${job.jobId} stayed QUEUED: ${why}; submit it again`,
      'QUEUE_LOST',
    );
    return 'rejected';
  }
  // Pushed back first: a send that fails leaves the job due again later instead of at every pass.
  const moved = await deps.jobs
    .markResent(job.jobId, queuedDueAt(deps, nowMs, resends + 1), resends + 1)
    .catch(ignoreConflict);
  if (!moved) return 'gone';
  await queue.queue.send([
    { jobId: job.jobId, endpoint: job.endpoint, request: JSON.parse(request) as SubmitRequest, attempt: 0 },
  ]);
  deps.logger.warn('queued job re-sent: its message never reached a submitter', {
    jobId: job.jobId,
    resends: resends + 1,
  });
  await audit(deps, job.jobId, 'submit.resent', 'sweeper', { resends: resends + 1 });
  return 'resent';
}
