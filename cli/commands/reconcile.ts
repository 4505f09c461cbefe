// `archiver reconcile`: find jobs whose submit was ambiguous, and settle one (attach its upstream id, or re-check it).
import type { Job } from '../api/schemas.ts';
import { boolFlag, jobIdArg, noExtraArgs, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import type { CommandContext } from '../context.ts';
import { EXIT, type ExitCode, UsageError } from '../errors.ts';
import { listQueryOf } from '../list-query.ts';
import { formatDuration, formatTags, formatTime } from '../output/format.ts';
import { jobLine } from '../output/job-summary.ts';
import { renderTable } from '../output/table.ts';
import { say, writeLine } from '../output/write.ts';
import { TIME_RANGE_FLAGS } from '../time-range.ts';
import { isFinished } from '../wait.ts';
import { finishJob } from './finish-job.ts';
import { WAIT_FLAGS } from './shared-flags.ts';

const USAGE = 'reconcile [<jobId> [--upstream-id ID] [--wait]]';

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'list jobs whose submit was ambiguous; attach an upstream id to one, or re-check it',
  usage: ['reconcile [--from T] [--to T] [--json]', 'reconcile <jobId> [--upstream-id ID] [--wait] [--json]'],
  description: [
    'When /run timed out or failed with a 5xx, the upstream may have started the job anyway: the job stays',
    'SUBMITTING with submitAmbiguous. Without a job id this lists such jobs and what to do. With one it calls',
    'POST /jobs/{id}/reconcile: with --upstream-id the archiver checks that upstream job and attaches it (then',
    'captures or watches it); without, it re-checks the job and prints its current state.',
  ],
  flags: {
    'upstream-id': {
      type: 'string',
      value: 'ID',
      description: 'the upstream job id that belongs to this job',
    },
    ...TIME_RANGE_FLAGS,
    ...WAIT_FLAGS,
    json: { type: 'boolean', description: 'print JSON on stdout' },
  },
  examples: [
    'archiver reconcile',
    'archiver reconcile 01M8MBK7CZYSBNNNQ4WA2P5V5X --upstream-id 20972b12-d801-4c09-8f8b-1d34efacc61b-u1 --wait',
  ],
  async run(ctx) {
    if (ctx.positionals.length === 0) return listAmbiguous(ctx);
    noExtraArgs(ctx.positionals, 1, `archiver ${USAGE}`);
    const jobId = jobIdArg(ctx.positionals, `archiver ${USAGE}`);
    const upstreamId = stringFlag(ctx.values, 'upstream-id');
    const { job, outcome } = await ctx.api().reconcile(jobId, upstreamId);
    say(ctx.io.stderr, `reconciled${outcome ? ` (${outcome})` : ''}: ${jobLine(job)}`);
    // The API leaves a finished job alone whatever id it is given: say so rather than imply it was attached.
    if (upstreamId !== undefined && isFinished(job) && job.upstreamId !== upstreamId)
      say(
        ctx.io.stderr,
        `job ${job.jobId} had already ended (${job.state}); --upstream-id ${upstreamId} was not used`,
      );
    return finishJob(ctx, job);
  },
};

async function listAmbiguous(ctx: CommandContext): Promise<ExitCode> {
  const { io, values } = ctx;
  if (stringFlag(values, 'upstream-id') !== undefined)
    throw new UsageError('--upstream-id needs the job id it belongs to', [`usage: archiver ${USAGE}`]);
  const query = { ...listQueryOf(values, io.now()), state: 'SUBMITTING', limit: 100 };
  const jobs: Job[] = [];
  for await (const page of ctx.api().pages(query))
    jobs.push(...page.jobs.filter((j) => j.submitAmbiguous === true));
  if (boolFlag(values, 'json')) {
    await writeLine(io.stdout, JSON.stringify({ jobs }, null, 2));
    return EXIT.ok;
  }
  if (jobs.length === 0) {
    say(io.stderr, `no job with an ambiguous submit between ${query.from} and ${query.to}`);
    return EXIT.ok;
  }
  const now = io.now();
  const table = renderTable(
    [
      { header: 'JOB ID' },
      { header: 'CREATED' },
      { header: 'AGE' },
      { header: 'ENDPOINT' },
      { header: 'TAGS' },
    ],
    jobs.map((j) => [
      j.jobId,
      formatTime(j.createdAt),
      formatDuration(now - Date.parse(j.createdAt)),
      j.endpoint,
      formatTags(j.metadata),
    ]),
  );
  for (const line of table) await writeLine(io.stdout, line);
  for (const line of [
    '',
    `${jobs.length} job(s) whose submit timed out or failed upstream: the upstream may be running them.`,
    'Their webhook still archives them if it comes. To settle one now:',
    '  - find its upstream job id (the upstream console or logs; its webhook URL contains the job id), then',
    '      archiver reconcile <jobId> --upstream-id <upstreamId> --wait',
    '  - or re-check it:  archiver reconcile <jobId>',
    'Left alone, the sweeper rejects such a job once its upstream ttl plus the retention window has passed.',
  ])
    say(io.stderr, line);
  return EXIT.ok;
}
