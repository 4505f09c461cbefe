// A result in hand while another capture holds the job: wait for that one to settle it, or take over.
import { captureResult, type Observation } from './capture.ts';
import type { Job } from './job.ts';
import { isTerminal, takesLateResult } from './job-state.ts';
import type { ServiceDeps } from './services.ts';

const STEP_MS = 100;

/**
 * Captures a final status in hand. If another capture holds the job (a webhook for the same status got there
 * first), waits until `until` for it to settle the job, or takes over once its lease frees, and answers with
 * the job as settled; the job as it was only when neither happens in time.
 */
export async function captureSettled(
  deps: ServiceDeps,
  job: Job,
  observation: Observation,
  until: number,
): Promise<Job> {
  const outcome = await captureResult(deps, job, observation);
  if (outcome.kind !== 'in-progress') return outcome.job;
  return (await captureOnceFree(deps, job.jobId, observation, until)) ?? outcome.job;
}

/**
 * Waits for the capture holding a job to settle it, and captures `observation` itself if that lease frees
 * (the holder failed or died), until `until`. Undefined when the job is still unsettled then, or gone.
 */
async function captureOnceFree(
  deps: ServiceDeps,
  jobId: string,
  observation: Observation,
  until: number,
): Promise<Job | undefined> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
    try {
      const current = await deps.jobs.get(jobId);
      if (!current) return undefined;
      const nowMs = deps.clock.now();
      // Settled for good; an expired job still takes this result (job-state.ts), once no capture holds it.
      if (isTerminal(current.state) && !takesLateResult(current.state)) return current;
      if (current.leaseOwner === undefined || (current.leaseUntil ?? 0) < nowMs) {
        const outcome = await captureResult(deps, current, observation);
        if (outcome.kind !== 'in-progress') return outcome.job;
      }
    } catch (err) {
      // A store fault: the result is still in hand, so try again while there is time; the job as last
      // recorded is the answer after that.
      deps.logger.warn('capture retry failed', { jobId, source: observation.source, error: String(err) });
    }
    if (deps.clock.now() >= until) return undefined;
  }
}
