// The cancel service: POST /jobs/{jobId}/cancel stops the upstream job and archives its final status.
import { isFinalUpstreamStatus } from '../schemas/upstream.ts';
import { audit } from './audit.ts';
import { captureSettled } from './capture-wait.ts';
import { JobNotFoundError, JobStateConflictError, UpstreamError } from './errors.ts';
import type { Job } from './job.ts';
import { iso, type ServiceDeps } from './services.ts';

/** How long a cancel waits for a capture already under way to settle the job it answers with. */
const CANCEL_SETTLE_MS = 5000;

/**
 * Cancels upstream, then captures the job's status right away: upstream webhooks for CANCELLED are not
 * guaranteed, so the archive must not wait for one.
 */
export async function cancelJob(deps: ServiceDeps, jobId: string, actor?: string): Promise<Job> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  if (!job.upstreamId || (job.state !== 'PENDING' && job.state !== 'SUBMITTING')) {
    throw new JobStateConflictError(jobId, job.state, 'cancel');
  }
  const answer = await deps.upstream.cancel(job.endpoint, job.upstreamId);
  await audit(deps, jobId, 'cancel.requested', 'api', { upstreamStatus: answer.status }, actor);
  try {
    const fetched = await deps.upstream.status(job.endpoint, job.upstreamId);
    if (isFinalUpstreamStatus(fetched.status.status)) {
      // The CANCELLED webhook may get there first: the answer is the job as settled, not PENDING.
      const observation = { status: fetched.status, raw: fetched.raw, source: 'cancel' as const };
      return await captureSettled(deps, job, observation, deps.clock.now() + CANCEL_SETTLE_MS);
    }
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    deps.logger.warn('status after cancel failed; the sweeper will capture', { jobId, code: err.code });
  }
  // Not final yet (or status failed): let the sweeper look again now rather than on the usual schedule.
  return deps.jobs.reschedule(jobId, {
    upstreamStatus: answer.status,
    lastSeenAt: iso(deps.clock.now()),
    dueAt: deps.clock.now(),
  });
}
