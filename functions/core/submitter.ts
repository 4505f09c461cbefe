// The submitter: drains the submit queue, one /run per job, at each endpoint's rate across the whole fleet.
import type { SubmitRequest } from '../schemas/api.ts';
import { audit } from './audit.ts';
import { estimatedStart } from './enqueue.ts';
import { ConcurrentUpdateError, UpstreamRateLimitedError } from './errors.ts';
import type { Job } from './job.ts';
import { persistently } from './persist.ts';
import type { QueueDeps, QueuedMessage } from './queue-ports.ts';
import { queuedDueAt } from './queue-recovery.ts';
import type { ServiceDeps } from './services.ts';
import { type ClaimTimes, leadOf, type Pace, processClaimTimes, startTime } from './start-times.ts';
import { type ArchivedInput, StartMissedError, sendQueued } from './submit.ts';

/** One received message: its id (to report it failed) and its body. */
export interface ReceivedMessage {
  messageId: string;
  body: string;
}

/** A message read, with its job as read before this submitter claimed it. */
interface ClaimedItem {
  received: ReceivedMessage;
  message: QueuedMessage;
  job: Job;
}

/** What became of a batch: the ids to hand back to the queue (SQS ReportBatchItemFailures). */
export interface DrainResult {
  failedMessageIds: string[];
  sent: number;
  /** Put back delayed: no start time within the horizon, or a 429. */
  deferred: number;
  /** Acknowledged without a /run: already sent (a redelivery), unknown job, unreadable body. */
  skipped: number;
}

/** A 429 pauses the endpoint this long at first, doubling per attempt of the same job up to the cap. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 900_000;
/**
 * A job whose start times keep being missed takes fresh ones for this long, then goes back to the queue:
 * well inside the function's 60 s (lib/constructs/submit-queue.ts).
 */
const RESTART_FOR_MS = 20_000;

export interface SubmitterOptions {
  sleep?: (ms: number) => Promise<void>;
  /** How long run claims take here; by default one per process (a Lambda container), kept across batches. */
  claimTimes?: ClaimTimes;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Drains one batch. Every message is either acknowledged (sent, put back as a new delayed message, or
 * nothing to do) or reported failed so the queue redelivers it; a redelivery never starts a second GPU job,
 * because /run is behind the job's run claim (`runAttemptedAt`, core/submit.ts): a job found SUBMITTING with
 * the claim taken is acknowledged and left to the sweeper, as any SUBMITTING job whose answer was lost.
 */
export async function drainBatch(
  deps: ServiceDeps,
  queue: QueueDeps,
  messages: readonly ReceivedMessage[],
  options: SubmitterOptions = {},
): Promise<DrainResult> {
  const pace: Pace = {
    sleep: options.sleep ?? defaultSleep,
    claimTimes: options.claimTimes ?? processClaimTimes,
  };
  const result: DrainResult = { failedMessageIds: [], sent: 0, deferred: 0, skipped: 0 };
  const byEndpoint = new Map<string, { received: ReceivedMessage; message: QueuedMessage }[]>();
  for (const received of messages) {
    const message = parseMessage(received.body);
    if (!message) {
      // A body no submitter can read never becomes readable: retrying it only delays the dead-letter queue.
      deps.logger.error('unreadable submit message', { messageId: received.messageId });
      result.skipped++;
      continue;
    }
    const list = byEndpoint.get(message.endpoint) ?? [];
    list.push({ received, message });
    byEndpoint.set(message.endpoint, list);
  }
  await Promise.all(
    [...byEndpoint].map(([endpoint, items]) => drainEndpoint(deps, queue, endpoint, items, result, pace)),
  );
  return result;
}

async function drainEndpoint(
  deps: ServiceDeps,
  queue: QueueDeps,
  endpoint: string,
  items: { received: ReceivedMessage; message: QueuedMessage }[],
  result: DrainResult,
  pace: Pace,
): Promise<void> {
  const sendable: ClaimedItem[] = [];
  await Promise.all(
    items.map(async (item) => {
      try {
        const job = await deps.jobs.get(item.message.jobId);
        if (job && needsSend(job)) sendable.push({ ...item, job });
        else result.skipped++;
      } catch (err) {
        fail(deps, result, item.received, err);
      }
    }),
  );
  if (sendable.length === 0) return;
  // Oldest first: ULIDs sort by acceptance time, so the queue stays roughly first come, first served.
  sendable.sort((a, b) => (a.job.jobId < b.job.jobId ? -1 : 1));
  let slots: number[];
  try {
    // No sooner than its two writes can be made: the claim from the queue, then the run claim.
    slots = await queue.runRate.take(
      endpoint,
      sendable.length,
      deps.clock.now() + leadOf(deps, pace, 2),
      deps.config.QUEUE_HORIZON_MS,
    );
  } catch (err) {
    for (const item of sendable) fail(deps, result, item.received, err);
    return;
  }
  const later = sendable.slice(slots.length);
  if (later.length) {
    const delay = Math.ceil(deps.config.QUEUE_HORIZON_MS / 1000);
    await putBack(deps, queue, later, delay, result);
  }
  const granted = sendable.slice(0, slots.length);
  const concurrency = deps.config.QUEUE_RUN_CONCURRENCY;
  let next = 0;
  const worker = async () => {
    while (next < granted.length) {
      const index = next++;
      const item = granted[index];
      const slot = slots[index];
      if (item === undefined || slot === undefined) return;
      await sendOne(deps, queue, item, slot, result, pace);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, granted.length) }, worker));
}

/** No start time within the horizon for a job whose own was missed: it goes back to the queue. */
class NoStartTimeError extends Error {}

/** QUEUED, or claimed by a submitter that stopped before taking the run claim. */
function needsSend(job: Job): boolean {
  return job.state === 'QUEUED' || (job.state === 'SUBMITTING' && !job.runAttemptedAt && !job.upstreamId);
}

async function sendOne(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: ClaimedItem,
  slot: number,
  result: DrainResult,
  pace: Pace,
): Promise<void> {
  const { job, message } = item;
  let claimed = job;
  try {
    if (job.state === 'QUEUED')
      claimed = await deps.jobs.claimForSubmit(job.jobId, deps.clock.now() + deps.config.SUBMIT_STALE_MS);
  } catch (err) {
    // Another delivery of this message took it first: it sends, this one has nothing to do.
    if (err instanceof ConcurrentUpdateError) result.skipped++;
    else fail(deps, result, item.received, err);
    return;
  }
  // The count is only for places and estimates: it does not stand between the start time and /run.
  const left =
    job.state === 'QUEUED' ? queue.positions.leave(job.endpoint).catch(() => undefined) : undefined;
  try {
    await sendAtStartTime(deps, queue, claimed, message, slot, pace);
    result.sent++;
  } catch (err) {
    if (err instanceof UpstreamRateLimitedError) return await backOff(deps, queue, item, err, result);
    // Not the upstream's doing: no pause, and no longer delay for the next time.
    if (err instanceof NoStartTimeError) {
      const why = { code: 'NO_START_TIME', delayMs: deps.config.QUEUE_HORIZON_MS, attempt: message.attempt };
      return await requeueLater(deps, queue, item, why, result);
    }
    // An upstream refusal or an ambiguous /run is recorded on the job by sendJob (REJECTED, or SUBMITTING for
    // the sweeper): acknowledge. Anything else (a store error before the run claim) is retried by redelivery.
    if (isRecordedUpstreamFailure(err)) result.skipped++;
    else fail(deps, result, item.received, err);
  } finally {
    await left;
  }
}

/** Sends the job at its start time, or at a fresh one each time one is missed, for RESTART_FOR_MS at most. */
async function sendAtStartTime(
  deps: ServiceDeps,
  queue: QueueDeps,
  job: Job,
  message: QueuedMessage,
  slot: number,
  pace: Pace,
): Promise<void> {
  const until = deps.clock.now() + RESTART_FOR_MS;
  let at = slot;
  let archived: ArchivedInput | undefined;
  for (;;) {
    try {
      await sendQueued(deps, job, message.request, startTime(deps, at, pace), archived);
      return;
    } catch (err) {
      if (!(err instanceof StartMissedError)) throw err;
      archived = err.archived;
      deps.metrics.count('QueueStartsMissed', 1, { endpoint: job.endpoint });
    }
    const nowMs = deps.clock.now();
    const from = nowMs + leadOf(deps, pace, 1);
    const [fresh] =
      nowMs < until ? await queue.runRate.take(job.endpoint, 1, from, deps.config.QUEUE_HORIZON_MS) : [];
    if (fresh === undefined) throw new NoStartTimeError();
    at = fresh;
  }
}

function isRecordedUpstreamFailure(err: unknown): boolean {
  return err instanceof Error && 'certainlyNotAccepted' in err;
}

/** The upstream's queue is full (or a rate was exceeded): pause the endpoint for everyone, then retry later. */
async function backOff(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: ClaimedItem,
  err: UpstreamRateLimitedError,
  result: DrainResult,
): Promise<void> {
  const { message } = item;
  const backoffMs = Math.min(
    BACKOFF_CAP_MS,
    Math.max(err.retryAfterMs, BACKOFF_BASE_MS * 2 ** Math.min(message.attempt, 20)),
  );
  deps.metrics.count('UpstreamRateLimited');
  // Other submitters would meet the 429 too and back off by themselves: the pause only spares them.
  await queue.runRate
    .pause(message.endpoint, deps.clock.now() + backoffMs)
    .catch((failure: unknown) =>
      deps.logger.warn('endpoint pause after a 429 failed', { jobId: message.jobId, error: String(failure) }),
    );
  await requeueLater(
    deps,
    queue,
    item,
    { code: err.code, delayMs: backoffMs, attempt: message.attempt + 1 },
    result,
  );
}

/**
 * Puts a job this submitter claimed back `QUEUED`, with a fresh place and estimate, and its message back in the
 * queue delayed by `delayMs`.
 */
async function requeueLater(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: ClaimedItem,
  why: { code: string; delayMs: number; attempt: number },
  result: DrainResult,
): Promise<void> {
  const { message } = item;
  // Its place is only an estimate: a failed count keeps the one it had.
  const place = await queue.positions.accept(message.endpoint).catch((failure: unknown) => {
    deps.logger.warn('queue place of a deferred job failed', {
      jobId: message.jobId,
      error: String(failure),
    });
    return item.job.queuePlace ?? 1;
  });
  const estimatedStartAt = estimatedStart(deps, deps.clock.now() + why.delayMs, place);
  try {
    // The upstream certainly has no job: its run claim is dropped first, and through a store's bad moment.
    // Left claimed, a redelivery would take it for a /run whose answer was lost, and it would wait out its life.
    await persistently(() =>
      deps.jobs.requeue(message.jobId, {
        queuePlace: place,
        estimatedStartAt,
        dueAt: queuedDueAt(deps, Date.parse(estimatedStartAt)),
      }),
    );
  } catch (failure) {
    fail(deps, result, item.received, failure);
    return;
  }
  try {
    await queue.queue.send([{ ...message, attempt: why.attempt }], Math.ceil(why.delayMs / 1000));
    await audit(deps, message.jobId, 'submit.deferred', 'api', { code: why.code, backoffMs: why.delayMs });
    result.deferred++;
  } catch (failure) {
    // QUEUED again: the redelivery of this message sends it.
    fail(deps, result, item.received, failure);
  }
}

/** Sends the messages again with a delay and acknowledges these: a deferral does not count as a receive. */
async function putBack(
  deps: ServiceDeps,
  queue: QueueDeps,
  items: { received: ReceivedMessage; message: QueuedMessage }[],
  delaySeconds: number,
  result: DrainResult,
): Promise<void> {
  try {
    await queue.queue.send(
      items.map((i) => i.message),
      delaySeconds,
    );
    result.deferred += items.length;
  } catch (err) {
    for (const item of items) fail(deps, result, item.received, err);
  }
}

function fail(deps: ServiceDeps, result: DrainResult, received: ReceivedMessage, err: unknown): void {
  deps.logger.warn('submit message failed; the queue redelivers it', {
    messageId: received.messageId,
    error: String(err),
  });
  result.failedMessageIds.push(received.messageId);
}

export function parseMessage(body: string): QueuedMessage | undefined {
  try {
    const value = JSON.parse(body) as Partial<QueuedMessage>;
    if (typeof value.jobId !== 'string' || typeof value.endpoint !== 'string') return undefined;
    if (typeof value.request !== 'object' || value.request === null) return undefined;
    return {
      jobId: value.jobId,
      endpoint: value.endpoint,
      request: value.request as SubmitRequest,
      attempt: typeof value.attempt === 'number' ? value.attempt : 0,
    };
  } catch {
    return undefined;
  }
}
