// `archiver track`: adopt a job submitted to the upstream elsewhere (POST /jobs/track), optionally --wait.
import { noExtraArgs, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import { UsageError } from '../errors.ts';
import { jobLine } from '../output/job-summary.ts';
import { say } from '../output/write.ts';
import { finishJob } from './finish-job.ts';
import { JSON_FLAG, META_FLAG, metadataOf, WAIT_FLAGS } from './shared-flags.ts';

const USAGE = 'track <upstreamId> [--endpoint NAME] [--meta k=v]... [--wait] [--json]';

export const trackCommand: Command = {
  name: 'track',
  summary: 'archive a job that was submitted to the upstream directly (by its upstream id)',
  usage: [USAGE],
  description: [
    'The archiver asks the upstream for the job first: an unknown id is an error and nothing is stored.',
    'A job that has already finished is archived at once. Prints the archiver job id on stdout.',
  ],
  flags: {
    endpoint: {
      type: 'string',
      value: 'NAME',
      description: 'endpoint the job was submitted to (default: the API default)',
    },
    ...META_FLAG,
    ...WAIT_FLAGS,
    ...JSON_FLAG,
  },
  examples: ['archiver track 60902e6c-1c2b-4a3e-9d11-0b1f5c2d7e8a-u1 --meta source=notebook --wait'],
  async run(ctx) {
    const upstreamId = ctx.positionals[0];
    if (upstreamId === undefined)
      throw new UsageError('missing upstream job id', [`usage: archiver ${USAGE}`]);
    noExtraArgs(ctx.positionals, 1, `archiver ${USAGE}`);
    const endpoint = stringFlag(ctx.values, 'endpoint');
    const metadata = metadataOf(ctx.values);
    const { job, created } = await ctx.api().track({
      upstreamId,
      ...(endpoint !== undefined && { endpoint }),
      ...(metadata && { metadata }),
    });
    say(ctx.io.stderr, `${created ? 'tracking' : 'already tracked'}: ${jobLine(job)}`);
    return finishJob(ctx, job);
  },
};
