// The common ending of submit, track and reconcile: print the job (id or JSON), optionally wait, pick the exit code.
import type { Job } from '../api/schemas.ts';
import { boolFlag } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { EXIT, type ExitCode } from '../errors.ts';
import { connectionFlags } from '../list-query.ts';
import { jobLine } from '../output/job-summary.ts';
import { say, writeLine } from '../output/write.ts';
import { outcomeExitCode, waitForJob } from '../wait.ts';
import { pollIntervalMs } from './shared-flags.ts';

/**
 * stdout carries only what scripts capture: the job id (or the job as JSON with --json); people read stderr.
 * With --wait the exit code tells whether the job ended COMPLETED.
 */
export async function finishJob(ctx: CommandContext, job: Job): Promise<ExitCode> {
  const { io, values } = ctx;
  let final = job;
  if (boolFlag(values, 'wait')) {
    try {
      final = await waitForJob(ctx.api(), job, {
        intervalMs: pollIntervalMs(values),
        stderr: io.stderr,
        signal: io.signal,
        now: io.now,
        followWith: `archiver ${connectionFlags(values)}get`,
      });
    } catch (err) {
      // Ctrl-C (or a failed poll) ends the wait, not the job: scripts capturing stdout still get its id.
      await writeLine(io.stdout, boolFlag(values, 'json') ? JSON.stringify({ job }, null, 2) : job.jobId);
      throw err;
    }
    say(io.stderr, jobLine(final));
  }
  if (boolFlag(values, 'json')) await writeLine(io.stdout, JSON.stringify({ job: final }, null, 2));
  else await writeLine(io.stdout, final.jobId);
  return boolFlag(values, 'wait') ? outcomeExitCode(final) : EXIT.ok;
}
