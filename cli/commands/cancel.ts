// `archiver cancel`: cancel a running job upstream; the archiver archives its final status at once.
import { boolFlag, jobIdArg } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../errors.ts';
import { jobLine } from '../output/job-summary.ts';
import { say, writeLine } from '../output/write.ts';
import { JSON_FLAG } from './shared-flags.ts';

const USAGE = 'cancel <jobId> [--json]';

export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a running job; its final status is archived at once',
  usage: [USAGE],
  description: ['A job that is no longer running is an API error (409 JOB_STATE_CONFLICT, exit 2).'],
  flags: { ...JSON_FLAG },
  examples: ['archiver cancel 01M8MBK7CZYSBNNNQ4WA2P5V5X'],
  async run(ctx) {
    const jobId = jobIdArg(ctx.positionals, `archiver ${USAGE}`);
    const job = await ctx.api().cancel(jobId);
    // Like every command: people read stderr, scripts read stdout (the id, or the job as JSON).
    say(ctx.io.stderr, `cancelled: ${jobLine(job)}`);
    if (boolFlag(ctx.values, 'json')) await writeLine(ctx.io.stdout, JSON.stringify({ job }, null, 2));
    else await writeLine(ctx.io.stdout, job.jobId);
    return EXIT.ok;
  },
};
