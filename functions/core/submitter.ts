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
import { sendQueued } from './submit.ts';

/** One received message: its id (to report it failed) and its body. */
export interface ReceivedMessage {
  messageId: string;
  body: string;
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

export interface SubmitterOptions {
  sleep?: (ms: number) => Promise<void>;
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
  const sleep = options.sleep ?? defaultSleep;
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
    [...byEndpoint].map(([endpoint, items]) => drainEndpoint(deps, queue, endpoint, items, result, sleep)),
  );
  return result;
}

async function drainEndpoint(
  deps: ServiceDeps,
  queue: QueueDeps,
  endpoint: string,
  items: { received: ReceivedMessage; message: QueuedMessage }[],
  result: DrainResult,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const sendable: { received: ReceivedMessage; message: QueuedMessage; job: Job }[] = [];
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
    slots = await queue.runRate.take(
      endpoint,
      sendable.length,
      deps.clock.now(),
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
      const untilSlot = async () => {
        const wait = slot - deps.clock.now();
        if (wait > 0) await sleep(wait);
      };
      await sendOne(deps, queue, item, untilSlot, result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, granted.length) }, worker));
}

/** QUEUED, or claimed by a submitter that stopped before taking the run claim. */
function needsSend(job: Job): boolean {
  return job.state === 'QUEUED' || (job.state === 'SUBMITTING' && !job.runAttemptedAt && !job.upstreamId);
}

async function sendOne(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: { received: ReceivedMessage; message: QueuedMessage; job: Job },
  untilSlot: () => Promise<void>,
  result: DrainResult,
): Promise<void> {
  const { job, message } = item;
  let claimed = job;
  try {
    if (job.state === 'QUEUED') {
      claimed = await deps.jobs.claimForSubmit(job.jobId, deps.clock.now() + deps.config.SUBMIT_STALE_MS);
      await queue.positions.leave(job.endpoint).catch(() => undefined);
    }
  } catch (err) {
    // Another delivery of this message took it first: it sends, this one has nothing to do.
    if (err instanceof ConcurrentUpdateError) result.skipped++;
    else fail(deps, result, item.received, err);
    return;
  }
  try {
    await sendQueued(deps, claimed, message.request, untilSlot);
    result.sent++;
  } catch (err) {
    if (err instanceof UpstreamRateLimitedError) return backOff(deps, queue, item, err, result);
    // An upstream refusal or an ambiguous /run is recorded on the job by sendJob (REJECTED, or SUBMITTING for
    // the sweeper): acknowledge. Anything else (a store error before the run claim) is retried by redelivery.
    if (isRecordedUpstreamFailure(err)) result.skipped++;
    else fail(deps, result, item.received, err);
  }
}

function isRecordedUpstreamFailure(err: unknown): boolean {
  return err instanceof Error && 'certainlyNotAccepted' in err;
}

/** The upstream's queue is full (or a rate was exceeded): pause the endpoint for everyone, then retry later. */
async function backOff(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: { received: ReceivedMessage; message: QueuedMessage; job: Job },
  err: UpstreamRateLimitedError,
  result: DrainResult,
): Promise<void> {
  const { message } = item;
  const nowMs = deps.clock.now();
  const backoffMs = Math.min(
    BACKOFF_CAP_MS,
    Math.max(err.retryAfterMs, BACKOFF_BASE_MS * 2 ** Math.min(message.attempt, 20)),
  );
  deps.metrics.count('UpstreamRateLimited');
  const bestEffort = (what: string) => (failure: unknown) => {
    deps.logger.warn(`${what} after a 429 failed`, { jobId: message.jobId, error: String(failure) });
  };
  // Its place is only an estimate: a failed count keeps the one it had.
  const place = await queue.positions.accept(message.endpoint).catch((failure: unknown) => {
    bestEffort('queue place')(failure);
    return item.job.queuePlace ?? 1;
  });
  const estimatedStartAt = estimatedStart(deps, nowMs + backoffMs, place);
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
  // Other submitters would meet the 429 too and back off by themselves: the pause only spares them.
  await queue.runRate.pause(message.endpoint, nowMs + backoffMs).catch(bestEffort('endpoint pause'));
  try {
    await queue.queue.send([{ ...message, attempt: message.attempt + 1 }], Math.ceil(backoffMs / 1000));
    await audit(deps, message.jobId, 'submit.deferred', 'api', { code: err.code, backoffMs });
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
