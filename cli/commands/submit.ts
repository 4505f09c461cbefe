// `archiver submit`: POST /jobs with input from a flag, a file or stdin; optional --wait with a live status line.
import { randomUUID } from 'node:crypto';
import type { SubmitBody } from '../api/archiver-api.ts';
import type { Job } from '../api/schemas.ts';
import { boolFlag, noExtraArgs, type ParsedValues, parseDuration, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import { ApiError } from '../errors.ts';
import { readJobInput } from '../input.ts';
import { jobLine } from '../output/job-summary.ts';
import { say } from '../output/write.ts';
import { finishJob } from './finish-job.ts';
import { JSON_FLAG, META_FLAG, metadataOf, WAIT_FLAGS } from './shared-flags.ts';

export const submitCommand: Command = {
  name: 'submit',
  summary: 'submit a job (input from --input, --input-file or stdin); --wait follows it to the end',
  usage: [
    `submit --input '{"prompt":"..."}' [--endpoint NAME] [--meta k=v]... [--wait]`,
    'submit --input-file job.json [...]',
    'submit --input - [...]   (input JSON on stdin)',
  ],
  description: [
    'Prints the job id on stdout (the job as JSON with --json). An Idempotency-Key is sent with every submit;',
    'the CLI makes one up unless --idempotency-key is given and prints it on stderr: repeat the command with',
    'it after a timeout or 5xx and the archiver returns the first job instead of starting a second one.',
  ],
  flags: {
    input: { type: 'string', value: 'JSON', description: 'the job input, a JSON object (`-` reads stdin)' },
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
  ],
  async run(ctx) {
    const { io, values } = ctx;
    noExtraArgs(ctx.positionals, 0, 'archiver submit --input JSON [flags]');
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
      throw withRetryHints(err, key);
    }
    say(io.stderr, `${result.replayed ? 'already submitted' : 'submitted'}: ${jobLine(result.job)}`);
    return finishJob(ctx, result.job);
  },
};

function submitBody(values: ParsedValues, input: unknown): SubmitBody {
  const ttl = stringFlag(values, 'policy-ttl');
  const timeout = stringFlag(values, 'execution-timeout');
  const policy = {
    ...(ttl !== undefined && { ttl: parseDuration(ttl, 'policy-ttl') }),
    ...(timeout !== undefined && { executionTimeout: parseDuration(timeout, 'execution-timeout') }),
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

/** A 502/504 leaves the job SUBMITTING with the upstream maybe holding it: say how to retry without a duplicate. */
function withRetryHints(err: unknown, key: string): unknown {
  if (!(err instanceof ApiError) || (err.status !== 502 && err.status !== 504)) return err;
  return new ApiError(err.message, err.exitCode, err.status, err.code, err.details, [
    ...err.hints,
    'the upstream may have accepted the job: repeat the command with',
    `  --idempotency-key ${key}`,
    'to get the same job back (never a second one); `archiver reconcile` lists such jobs',
  ]);
}
