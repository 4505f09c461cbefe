// The submitter: drains the submit queue, one /run per job, at each endpoint's rate across the whole fleet.
import type { SubmitRequest } from '../schemas/api.ts';
import { audit } from './audit.ts';
import { BACKOFF_BASE_MS } from './endpoint-backoff.ts';
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

export interface SubmitterOptions {
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A start time reached later than this, right before /run, is traded for a fresh one. The rate's 3% margin
 * absorbs only about 0.2 s (10/s) to 0.3 s (100/s) of lateness in any 10 s window: a late /run arrives among
 * the on-time starts after it, and the window holds more than the limit.
 */
export const LATE_START_MS = 100;

/** How far ahead a traded start is taken: the write that takes it must not make the fresh one late as well. */
export const FRESH_START_LEAD_MS = 300;

/** A late start whose endpoint began a 429 pause meanwhile: the job goes back to the queue, unsent. */
class StartMissedError extends Error {
  constructor() {
    super('the start time was reached late, during a 429 pause');
  }
}

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
  // A 429 met by one worker pauses the others too: a start time handed out before it would only meet another.
  const endpointState: EndpointState = { resumeAt: 0 };
  const held: typeof granted = [];
  let next = 0;
  const worker = async () => {
    while (next < granted.length) {
      const index = next++;
      const item = granted[index];
      const slot = slots[index];
      if (item === undefined || slot === undefined) return;
      if (endpointState.resumeAt > slot) {
        held.push(item);
        continue;
      }
      await sendOne(deps, queue, { ...item, slot }, sleep, endpointState, result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, granted.length) }, worker));
  if (held.length) await putBack(deps, queue, held, delayUntil(deps, endpointState.resumeAt), result);
}

/** What the workers of one endpoint's batch share: when its starts resume after a 429 one of them met. */
interface EndpointState {
  resumeAt: number;
}

/** A queue delay (whole seconds, 1–900) that ends at `atMs`. */
function delayUntil(deps: ServiceDeps, atMs: number): number {
  return Math.min(900, Math.max(1, Math.ceil((atMs - deps.clock.now()) / 1000)));
}

/** QUEUED, or claimed by a submitter that stopped before taking the run claim. */
function needsSend(job: Job): boolean {
  return job.state === 'QUEUED' || (job.state === 'SUBMITTING' && !job.runAttemptedAt && !job.upstreamId);
}

/** One granted message: its job as read, and the start time it was handed. */
interface GrantedItem {
  received: ReceivedMessage;
  message: QueuedMessage;
  job: Job;
  slot: number;
}

async function sendOne(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: GrantedItem,
  sleep: (ms: number) => Promise<void>,
  endpointState: EndpointState,
  result: DrainResult,
): Promise<void> {
  const { job, message } = item;
  const untilSlot = async () => {
    const wait = item.slot - deps.clock.now();
    if (wait > 0) await sleep(wait);
  };
  // Right before /run, the run claim taken: nothing but the wait stands between a fresh start time and /run.
  // One trade per start: on a machine too busy to keep any start, more would only contend for the rate item.
  const onTime = async () => {
    if (deps.clock.now() - item.slot <= LATE_START_MS) return;
    if (endpointState.resumeAt > deps.clock.now()) throw new StartMissedError();
    deps.metrics.count('LateStartsTraded');
    // None within the horizon (or the rate item unreadable): sent as late as it is, and a 429 it meets
    // pauses the endpoint.
    const [fresh] = await queue.runRate
      .take(job.endpoint, 1, deps.clock.now() + FRESH_START_LEAD_MS, deps.config.QUEUE_HORIZON_MS)
      .catch(() => []);
    if (fresh === undefined) return;
    item.slot = fresh;
    await untilSlot();
  };
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
    await sendQueued(deps, claimed, message.request, { beforeRun: untilSlot, atRun: onTime });
    result.sent++;
  } catch (err) {
    if (err instanceof UpstreamRateLimitedError)
      return backOff(deps, queue, item, err, endpointState, result);
    if (err instanceof StartMissedError)
      return returnUnstarted(deps, queue, item, endpointState.resumeAt, 'START_LATE', result);
    // An upstream refusal or an ambiguous /run is recorded on the job by sendJob (REJECTED, or SUBMITTING for
    // the sweeper): acknowledge. Anything else (a store error before the run claim) is retried by redelivery.
    if (isRecordedUpstreamFailure(err)) result.skipped++;
    else fail(deps, result, item.received, err);
  }
}

function isRecordedUpstreamFailure(err: unknown): boolean {
  return err instanceof Error && 'certainlyNotAccepted' in err;
}

/**
 * The upstream's queue is full (or a rate was exceeded): the job goes back to the queue, and the endpoint
 * pauses for every submitter for as long as the episode says (core/endpoint-backoff.ts), not for as long as
 * this one job has waited: one unlucky job must not hold up a whole endpoint for minutes.
 */
async function backOff(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: GrantedItem,
  err: UpstreamRateLimitedError,
  endpointState: EndpointState,
  result: DrainResult,
): Promise<void> {
  const { message } = item;
  const nowMs = deps.clock.now();
  deps.metrics.count('UpstreamRateLimited');
  // Other submitters would meet the 429 too and back off by themselves: the shared pause only spares them.
  const resumeAt = await queue.runRate
    .backOff(message.endpoint, item.slot, nowMs, err.retryAfterMs)
    .catch((failure: unknown) => {
      warnFailed(deps, message.jobId, 'the endpoint pause after a 429', failure);
      return nowMs + Math.max(err.retryAfterMs, BACKOFF_BASE_MS);
    });
  endpointState.resumeAt = Math.max(endpointState.resumeAt, resumeAt);
  await returnUnstarted(deps, queue, item, resumeAt, err.code, result);
}

/**
 * A claimed job that was not started goes back to the queue: QUEUED again, its run claim dropped, its message
 * sent again to be received when the endpoint resumes.
 */
async function returnUnstarted(
  deps: ServiceDeps,
  queue: QueueDeps,
  item: GrantedItem,
  resumeAt: number,
  code: string,
  result: DrainResult,
): Promise<void> {
  const { message } = item;
  const nowMs = deps.clock.now();
  // Its place is only an estimate: a failed count keeps the one it had.
  const place = await queue.positions.accept(message.endpoint).catch((failure: unknown) => {
    warnFailed(deps, message.jobId, 'the queue place of an unstarted job', failure);
    return item.job.queuePlace ?? 1;
  });
  const estimatedStartAt = estimatedStart(deps, resumeAt, place);
  try {
    // The upstream certainly has no job: its run claim is dropped whatever else failed, through a store's bad moment.
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
    await queue.queue.send([{ ...message, attempt: message.attempt + 1 }], delayUntil(deps, resumeAt));
    await audit(deps, message.jobId, 'submit.deferred', 'api', { code, backoffMs: resumeAt - nowMs });
    result.deferred++;
  } catch (failure) {
    // QUEUED again: the redelivery of this message sends it.
    fail(deps, result, item.received, failure);
  }
}

/** A best-effort write on the way back to the queue failed: logged, and the job goes back all the same. */
function warnFailed(deps: ServiceDeps, jobId: string, what: string, failure: unknown): void {
  deps.logger.warn(`${what} failed`, { jobId, error: String(failure) });
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
