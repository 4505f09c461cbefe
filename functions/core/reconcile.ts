// The reconcile service: POST /jobs/{jobId}/reconcile settles a job the archiver is unsure about.
import { audit } from './audit.ts';
import { type CaptureOutcome, captureResult } from './capture.ts';
import { JobNotFoundError, JobStateConflictError } from './errors.ts';
import type { Job } from './job.ts';
import { isTerminal } from './job-state.ts';
import type { ServiceDeps } from './services.ts';

export interface ReconcileResult {
  job: Job;
  outcome: CaptureOutcome['kind'] | 'unchanged';
}

/**
 * Looks at the upstream now. With `upstreamId` (found in the upstream's request log or the worker's own
 * records), attaches it to a SUBMITTING job whose /run answer was lost, after /status proves it exists;
 * the link is unique, so an upstream job can never be attached to two archiver jobs.
 */
export async function reconcileJob(
  deps: ServiceDeps,
  jobId: string,
  upstreamId?: string,
  actor?: string,
): Promise<ReconcileResult> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  if (isTerminal(job.state)) return { job, outcome: 'unchanged' };
  if (upstreamId && job.upstreamId && job.upstreamId !== upstreamId) {
    throw attachConflict(jobId, job.state, upstreamId, `it already has upstream job ${job.upstreamId}`);
  }
  const target = job.upstreamId ?? upstreamId;
  if (!target) return { job, outcome: 'unchanged' };

  const askedAt = deps.clock.now();
  const fetched = await deps.upstream.status(job.endpoint, target);
  if (!job.upstreamId) {
    const holder = await deps.jobs.linkUpstream(job.endpoint, target, jobId);
    if (holder !== jobId)
      throw attachConflict(jobId, job.state, target, `that upstream job belongs to job ${holder}`);
  }
  await audit(
    deps,
    jobId,
    'reconciled',
    'api',
    { upstreamId: target, upstreamStatus: fetched.status.status },
    actor,
  );
  const outcome = await captureResult(deps, job, {
    status: fetched.status,
    raw: fetched.raw,
    source: 'reconcile',
    askedAt,
  });
  return { job: outcome.job, outcome: outcome.kind };
}

/** A 409 whose sentence reads whole: the generic "Cannot <action> job <id> in state <s>" cannot carry the reason. */
function attachConflict(
  jobId: string,
  state: string,
  upstreamId: string,
  why: string,
): JobStateConflictError {
  const error = new JobStateConflictError(jobId, state, `attach upstream job ${upstreamId} to`);
  error.message = `Cannot attach upstream job ${upstreamId} to job ${jobId}: ${why}`;
  return error;
}
