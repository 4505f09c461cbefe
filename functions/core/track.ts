// The track service: POST /jobs/track adopts a job submitted elsewhere, so its result is archived too.
import { ulid } from 'ulid';
import type { TrackRequest } from '../schemas/api.ts';
import { isFinalUpstreamStatus } from '../schemas/upstream.ts';
import { audit } from './audit.ts';
import { captureResult } from './capture.ts';
import { resolveEndpoint } from './endpoints.ts';
import { ConcurrentUpdateError } from './errors.ts';
import type { Job } from './job.ts';
import { nextLookAt } from './schedule.ts';
import { iso, type ServiceDeps } from './services.ts';

export interface TrackResult {
  job: Job;
  created: boolean;
}

/**
 * Adopts `{endpoint, upstreamId}`. The upstream is asked first (an unknown id is a 404 and nothing is
 * written); one job per upstream id, however often it is tracked. A job already finished is captured at once.
 */
export async function trackJob(
  deps: ServiceDeps,
  request: TrackRequest,
  principal?: string,
): Promise<TrackResult> {
  const endpoint = resolveEndpoint(deps.config, request.endpoint);
  const knownId = await deps.jobs.findByUpstream(endpoint, request.upstreamId);
  const known = knownId ? await deps.jobs.get(knownId) : undefined;
  if (known) return { job: known, created: false };

  const askedAt = deps.clock.now();
  const fetched = await deps.upstream.status(endpoint, request.upstreamId);
  const nowMs = deps.clock.now();
  const jobId = await deps.jobs.linkUpstream(endpoint, request.upstreamId, knownId ?? ulid(nowMs));
  const job: Job = {
    jobId,
    endpoint,
    state: 'PENDING',
    origin: 'tracked',
    createdAt: iso(nowMs),
    submittedAt: iso(nowMs),
    upstreamId: request.upstreamId,
    upstreamStatus: fetched.status.status,
    lastSeenAt: iso(nowMs),
    ...(request.metadata && { metadata: request.metadata }),
    ...(principal && { trackedBy: principal }),
    // The track's own /status found it unfinished (a finished one is captured below).
    dueAt: nextLookAt(askedAt, deps.config, jobId),
  };
  try {
    await deps.jobs.create(job);
  } catch (err) {
    if (!(err instanceof ConcurrentUpdateError)) throw err;
    // A concurrent track of the same upstream job won the link and the record: return that one.
    return { job: (await deps.jobs.get(jobId)) ?? job, created: false };
  }
  await audit(
    deps,
    jobId,
    'tracked',
    'api',
    { upstreamId: request.upstreamId, upstreamStatus: fetched.status.status },
    principal,
  );
  if (!isFinalUpstreamStatus(fetched.status.status)) return { job, created: true };
  const outcome = await captureResult(deps, job, {
    status: fetched.status,
    raw: fetched.raw,
    source: 'track',
  });
  return { job: outcome.job, created: true };
}
