// `archiver submit`: POST /jobs with input from a flag, a file or stdin; optional --wait with a live status line.
import { randomUUID } from 'node:crypto';
import type { SubmitBody } from '../api/archiver-api.ts';
import type { Job } from '../api/schemas.ts';
import { boolFlag, noExtraArgs, type ParsedValues, parseDuration, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import { ApiError, UsageError } from '../errors.ts';
import { readJobInput } from '../input.ts';
import { formatDuration } from '../output/format.ts';
import { jobLine } from '../output/job-summary.ts';
import { say, writeLine } from '../output/write.ts';
import { finishJob } from './finish-job.ts';
import { JSON_FLAG, META_FLAG, metadataOf, WAIT_FLAGS } from './shared-flags.ts';
import { submitFile } from './submit-file.ts';

export const submitCommand: Command = {
  name: 'submit',
  summary: 'submit a job (input from --input, --input-file or stdin); --wait follows it to the end',
  usage: [
    `submit --input '{"prompt":"..."}' [--endpoint NAME] [--meta k=v]... [--wait]`,
    'submit --input-file job.json [...]',
    'submit --input - [...]   (input JSON on stdin)',
    'submit --file jobs.jsonl [--idempotency-key PREFIX] [--json]',
  ],
  description: [
    'Prints the job id on stdout (the job as JSON with --json), also when the submit was ambiguous (502/504)',
    'or --wait was interrupted, so JOB=$(archiver submit ...) always names the job. An Idempotency-Key is sent with every submit;',
    'the CLI makes one up unless --idempotency-key is given and prints it on stderr: repeat the command with',
    'it after a timeout or 5xx and the archiver returns the first job instead of starting a second one.',
    '--file sends a JSON-lines file (one {"input": ...} object per line) through the submit queue in batches',
    'of 100, retrying 429/503 after Retry-After, and prints one result per line (line, job id, state or the',
    'reason it was refused); line N gets the Idempotency-Key PREFIX-N, so rerunning with the printed prefix is safe.',
  ],
  flags: {
    input: { type: 'string', value: 'JSON', description: 'the job input, a JSON object (`-` reads stdin)' },
    file: {
      type: 'string',
      value: 'FILE',
      description: 'JSON lines, one job per line, sent queued through POST /jobs/batch',
    },
    'input-file': {
      type: 'string',
      value: 'FILE',
      description: 'read the input JSON from a file (`-`: stdin)',
    },
    endpoint: {
      type: 'string',
      value: 'NAME',
      description: 'configured endpoint (default: the API default)',
    },
    ...META_FLAG,
    'policy-ttl': { type: 'string', value: 'DURATION', description: 'upstream policy.ttl (10s to 7d)' },
    'execution-timeout': {
      type: 'string',
      value: 'DURATION',
      description: 'upstream policy.executionTimeout (5s to 7d)',
    },
    'low-priority': { type: 'boolean', description: 'upstream policy.lowPriority' },
    sync: { type: 'boolean', description: 'use /runsync: wait up to ~25 s and archive at once' },
    'idempotency-key': {
      type: 'string',
      value: 'KEY',
      description: 'retry key, 8-128 of A-Za-z0-9_.:- (default: generated and printed)',
    },
    ...WAIT_FLAGS,
    ...JSON_FLAG,
  },
  examples: [
    `archiver submit --input '{"prompt":"a lighthouse at dawn"}' --meta team=vision --wait`,
    'archiver submit --input-file job.json --endpoint default --policy-ttl 2h',
    `echo '{"prompt":"x"}' | archiver submit --input - --sync --json`,
    'archiver submit --file jobs.jsonl > results.tsv',
  ],
  async run(ctx) {
    const { io, values } = ctx;
    noExtraArgs(ctx.positionals, 0, 'archiver submit --input JSON [flags]');
    const jobsFile = stringFlag(values, 'file');
    if (jobsFile !== undefined) return submitFile(ctx, jobsFile, stringFlag(values, 'idempotency-key'));
    const inline = stringFlag(values, 'input');
    const file = stringFlag(values, 'input-file');
    const input = await readJobInput({
      stdin: io.stdin,
      ...(inline !== undefined && { inline }),
      ...(file !== undefined && { file }),
    });
    const body = submitBody(values, input);
    const key = stringFlag(values, 'idempotency-key') ?? `cli-${randomUUID()}`;
    say(io.stderr, `idempotency key ${key} (to retry safely: --idempotency-key ${key})`);
    let result: { job: Job; replayed: boolean };
    try {
      result = await ctx.api().submit(body, key);
    } catch (err) {
      // An ambiguous submit still made a job: its id goes to stdout like any other, for `reconcile`.
      const jobId = ambiguousJobId(err);
      if (jobId !== undefined) await writeLine(io.stdout, jobId);
      throw withRetryHints(err, key, jobId);
    }
    say(io.stderr, `${result.replayed ? 'already submitted' : 'submitted'}: ${jobLine(result.job)}`);
    return finishJob(ctx, result.job);
  },
};

function submitBody(values: ParsedValues, input: unknown): SubmitBody {
  const ttl = stringFlag(values, 'policy-ttl');
  const timeout = stringFlag(values, 'execution-timeout');
  const policy = {
    ...(ttl !== undefined && { ttl: boundedDuration(ttl, 'policy-ttl', 10_000) }),
    ...(timeout !== undefined && {
      executionTimeout: boundedDuration(timeout, 'execution-timeout', 5000),
    }),
    ...(boolFlag(values, 'low-priority') && { lowPriority: true }),
  };
  const endpoint = stringFlag(values, 'endpoint');
  const metadata = metadataOf(values);
  return {
    input,
    ...(endpoint !== undefined && { endpoint }),
    ...(Object.keys(policy).length && { policy }),
    ...(metadata && { metadata }),
    ...(boolFlag(values, 'sync') && { sync: true }),
  };
}

const SEVEN_DAYS_MS = 7 * 86_400_000;

/** The upstream's policy bounds, checked here so the message speaks in durations, not milliseconds. */
function boundedDuration(text: string, flag: string, minMs: number): number {
  const ms = parseDuration(text, flag);
  if (ms < minMs || ms > SEVEN_DAYS_MS)
    throw new UsageError(
      `--${flag} must be from ${formatDuration(minMs)} to 7 days, got ${text} (${formatDuration(ms)})`,
    );
  return ms;
}

function ambiguousJobId(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || (err.status !== 502 && err.status !== 504)) return undefined;
  const jobId = err.details.jobId;
  return typeof jobId === 'string' ? jobId : undefined;
}

/** A 502/504 leaves the job SUBMITTING with the upstream maybe holding it: say how to retry without a duplicate. */
function withRetryHints(err: unknown, key: string, jobId: string | undefined): unknown {
  if (!(err instanceof ApiError) || (err.status !== 502 && err.status !== 504)) return err;
  return new ApiError(err.message, err.exitCode, err.status, err.code, err.details, [
    ...err.hints,
    ...(jobId !== undefined
      ? [
          `job ${jobId} stays SUBMITTING (submit ambiguous); its webhook still archives it if the upstream has it`,
        ]
      : []),
    'the upstream may have accepted the job: repeat the command with',
    `  --idempotency-key ${key}`,
    'to get the same job back (never a second one), or settle it with',
    `  archiver reconcile ${jobId ?? '<jobId>'} --upstream-id <id from the upstream's request log>`,
  ]);
}
