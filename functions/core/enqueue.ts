// Queued submission: POST /jobs with "queue": true and POST /jobs/batch. Records a QUEUED job, then enqueues it.
import { ulid } from 'ulid';
import type { SubmitRequest } from '../schemas/api.ts';
import { markAnnounced } from './announce.ts';
import { audit } from './audit.ts';
import { publishQuietly } from './capture.ts';
import { resolveEndpoint } from './endpoints.ts';
import { ignoreConflict, QueueUnavailableError } from './errors.ts';
import { claimRequestKey, scopedIdempotencyKey } from './idempotency.ts';
import type { Job } from './job.ts';
import { persistently } from './persist.ts';
import type { QueueDeps } from './queue-ports.ts';
import { queuedDueAt, resendableRequest } from './queue-recovery.ts';
import { iso, type ServiceDeps } from './services.ts';

/** An SQS message holds 1 MiB; the request travels in it with its job id and a little framing. */
export const QUEUE_MAX_REQUEST_BYTES = 1_000_000;

export interface EnqueueResult {
  job: Job;
  created: boolean;
}

/** Milliseconds between two /run starts of one endpoint at the queue's rate. */
export function runIntervalMs(deps: Pick<ServiceDeps, 'config'>): number {
  return 10_000 / deps.config.QUEUE_RUN_RATE_PER_10S;
}

/** When a job at `place` can expect its /run, at the endpoint's queue rate. */
export function estimatedStart(deps: Pick<ServiceDeps, 'config'>, nowMs: number, place: number): string {
  return iso(nowMs + Math.round(Math.max(0, place - 1) * runIntervalMs(deps)));
}

/**
 * Accepts a job into the submit queue. The record (QUEUED, with its place and an estimate) is written before
 * the message, so the job is visible from the moment it is accepted; a send that fails rejects the job and
 * frees its Idempotency-Key, so the client's retry really tries again.
 */
export async function enqueueJob(
  deps: ServiceDeps,
  queue: QueueDeps,
  request: SubmitRequest,
  idempotencyKey?: string,
  principal?: string,
): Promise<EnqueueResult> {
  const endpoint = resolveEndpoint(deps.config, request.endpoint);
  const nowMs = deps.clock.now();
  let jobId = ulid(nowMs);
  const earlier = idempotencyKey
    ? await claimRequestKey(deps, { idempotencyKey, principal, request, endpoint }, jobId, nowMs)
    : undefined;
  if (earlier) {
    const existing = await deps.jobs.get(earlier);
    if (existing) return { job: existing, created: false };
    // The first request claimed the key and stopped before its record: take over its job id.
    jobId = earlier;
  }
  const place = await queue.positions.accept(endpoint);
  const estimatedStartAt = estimatedStart(deps, nowMs, place);
  const queuedRequest = resendableRequest(request);
  const job: Job = {
    jobId,
    endpoint,
    state: 'QUEUED',
    origin: 'submitted',
    createdAt: iso(nowMs),
    queuedAt: iso(nowMs),
    queuePlace: place,
    estimatedStartAt,
    // Due to the sweeper if it is still QUEUED well after its estimate: its message may be lost.
    dueAt: queuedDueAt(deps, Date.parse(estimatedStartAt)),
    ...(queuedRequest !== undefined && { queuedRequest }),
    ...(request.metadata && { metadata: request.metadata }),
    ...(request.policy && { policy: request.policy }),
    ...(idempotencyKey && { idempotencyKey }),
    ...(principal && { submittedBy: principal }),
  };
  await deps.jobs.create(job);
  await audit(deps, jobId, 'created', 'api', { endpoint, queued: true, place }, principal);
  try {
    await queue.queue.send([{ jobId, endpoint, request, attempt: 0 }]);
  } catch (err) {
    await rejectUnqueued(deps, queue, job, String(err));
    throw new QueueUnavailableError(`the submit queue did not take job ${jobId}; retry the request`);
  }
  return { job, created: true };
}

/** A QUEUED job that will never be sent: REJECTED with the reason, its key freed, announced. */
export async function rejectUnqueued(
  deps: ServiceDeps,
  queue: QueueDeps,
  job: Job,
  error: string,
  code: 'QUEUE_UNAVAILABLE' | 'QUEUE_LOST' = 'QUEUE_UNAVAILABLE',
): Promise<void> {
  const reason = `${code}: ${error}`;
  const rejected = await persistently(() => deps.jobs.reject(job.jobId, reason, deps.clock.now())).catch(
    ignoreConflict,
  );
  await queue.positions.leave(job.endpoint).catch(() => undefined);
  if (job.idempotencyKey) {
    const key = scopedIdempotencyKey(job.idempotencyKey, job.submittedBy);
    await persistently(() => deps.jobs.releaseIdempotencyKey(key, job.jobId));
  }
  deps.metrics.count('JobsRejected', 1, { endpoint: job.endpoint });
  await audit(deps, job.jobId, 'submit.rejected', 'api', { code }, job.submittedBy);
  if (!rejected) return;
  await publishQuietly(deps, 'Job Rejected', rejected);
  await markAnnounced(deps, rejected);
}
