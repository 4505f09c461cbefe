// `--wait`: polls GET /jobs/{id} with a live status line until the job reaches a terminal state.
import { setTimeout as sleep } from 'node:timers/promises';
import { isJobState, isTerminal } from '../functions/core/job-state.ts';
import type { ArchiverApi } from './api/archiver-api.ts';
import type { Job } from './api/schemas.ts';
import type { OutStream } from './context.ts';
import { EXIT, type ExitCode, InterruptedError } from './errors.ts';
import { formatDuration, formatState } from './output/format.ts';
import { createStatusLine } from './output/progress.ts';

export interface WaitOptions {
  intervalMs: number;
  stderr: OutStream;
  signal: AbortSignal;
  now(): number;
  /** The command that shows the job, with the flags that reach the same API (default `archiver get`). */
  followWith?: string;
}

export function isFinished(job: Job): boolean {
  return isJobState(job.state) && isTerminal(job.state);
}

/** 0 when the job was archived with upstream COMPLETED; 6 for any other end (FAILED, EXPIRED, REJECTED...). */
export function outcomeExitCode(job: Job): ExitCode {
  return job.state === 'ARCHIVED' && job.upstreamStatus === 'COMPLETED' ? EXIT.ok : EXIT.jobNotCompleted;
}

export async function waitForJob(api: ArchiverApi, first: Job, options: WaitOptions): Promise<Job> {
  const started = options.now();
  const status = createStatusLine(options.stderr);
  let job = first;
  try {
    while (!isFinished(job)) {
      const elapsed = formatDuration(options.now() - started);
      status.set(`${job.jobId}  ${waitingState(job, options.now())}  waiting ${elapsed}`, formatState(job));
      try {
        await sleep(options.intervalMs, undefined, { signal: options.signal });
      } catch {
        throw interrupted(job, options.followWith);
      }
      job = (await api.get(job.jobId)).job;
    }
  } catch (err) {
    throw err instanceof InterruptedError ? interrupted(job, options.followWith) : err;
  } finally {
    status.finish();
  }
  return job;
}

function interrupted(job: Job, followWith = 'archiver get'): InterruptedError {
  return new InterruptedError(`stopped waiting; job ${job.jobId} goes on (${formatState(job)})`, [
    `follow it with \`${followWith} ${job.jobId}\``,
  ]);
}

/**
 * The archiver's state, and the upstream status as last seen by the archiver (webhook or sweeper): the
 * upstream may have moved on since, so say when it was seen rather than present it as live.
 */
export function waitingState(job: Job, nowMs: number): string {
  if (!job.upstreamStatus) return job.state;
  const seenAt = Date.parse(job.lastSeenAt ?? job.submittedAt ?? '');
  const ago = Number.isNaN(seenAt) ? '' : `, ${formatDuration(Math.max(0, nowMs - seenAt))} ago`;
  return `${job.state}, upstream ${job.upstreamStatus} when last seen${ago}`;
}
