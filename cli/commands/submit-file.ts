// `archiver submit --file jobs.jsonl`: JSON lines sent in batches through POST /jobs/batch (the submit queue).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchJob } from '../api/archiver-api.ts';
import type { CommandContext } from '../context.ts';
import { ApiError, CliError, EXIT, type ExitCode, UsageError } from '../errors.ts';
import { retryWaitMs } from '../http/client.ts';
import { createProgressBar } from '../output/progress.ts';
import { say, writeLine } from '../output/write.ts';

/** The API takes at most 100 jobs per batch (functions/schemas/batch.ts). */
export const FILE_BATCH_SIZE = 100;
/** Batches in flight at once: enough to keep the queue's rate busy, few enough to leave the API room. */
const BATCHES_IN_FLIGHT = 4;
/** Tries per batch (or per line answered 429/503) before the line is reported refused. */
const MAX_TRIES = 8;

/** One line of the file, its outcome once known. */
interface Line {
  line: number;
  job: BatchJob;
  tries: number;
}

interface LineResult {
  line: number;
  jobId?: string;
  state?: string;
  replayed?: boolean;
  error?: { code: string; message: string };
}

const retryable = (status: number) => status === 429 || status === 503;
/**
 * A whole batch answered 429 or 5xx, or not at all (a timeout, a lost connection): sent again, as every line
 * carries its Idempotency-Key: what the first try queued comes back as a replay, never as a second job.
 */
const batchRetryable = (err: unknown) =>
  err instanceof ApiError
    ? err.status === 429 || err.status >= 500
    : err instanceof CliError && err.exitCode === EXIT.unreachable;

/**
 * Reads every line first, so a file that is not JSON lines is refused line by line before anything is sent.
 * Each line gets the Idempotency-Key `{prefix}-{line}`: running the command again with the printed prefix
 * resends only what did not get through, and never makes a second job of a line that did.
 */
export async function submitFile(ctx: CommandContext, path: string, keyPrefix?: string): Promise<ExitCode> {
  const { io } = ctx;
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${err.code ?? err.message}`);
  });
  const prefix = keyPrefix ?? `cli-${randomUUID().slice(0, 18)}`;
  const results: LineResult[] = [];
  const pending: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const parsed = parseLine(raw);
    if (typeof parsed === 'string')
      results.push({ line: i + 1, error: { code: 'BAD_LINE', message: parsed } });
    else pending.push({ line: i + 1, job: { idempotencyKey: `${prefix}-${i + 1}`, ...parsed }, tries: 0 });
  });
  const total = results.length + pending.length;
  if (total === 0) throw new UsageError(`${path} has no job lines (one JSON object per line)`);
  say(
    io.stderr,
    `${total} lines; idempotency keys ${prefix}-<line> (to resend safely: --idempotency-key ${prefix})`,
  );

  const bar = createProgressBar(io.stderr, total);
  const tty = io.stderr.isTTY === true;
  const report = () => {
    const refused = results.filter((r) => r.error).length;
    const note = `${results.length}/${total} answered, ${refused} refused`;
    if (tty) bar.update(results.length, note);
    else say(io.stderr, note);
  };

  const sendBatch = async (batch: Line[]): Promise<void> => {
    for (;;) {
      for (const l of batch) l.tries++;
      try {
        const answer = await ctx.api().submitBatch(batch.map((l) => l.job));
        const again: Line[] = [];
        let waitMs = 0;
        for (const r of answer.results) {
          const sent = batch[r.index];
          if (!sent) continue;
          if (r.error && retryable(r.status) && sent.tries < MAX_TRIES) {
            again.push(sent);
            waitMs = Math.max(waitMs, retryWaitMs(null, sent.tries, Date.now()));
            continue;
          }
          results.push({
            line: sent.line,
            ...(r.job && { jobId: r.job.jobId, state: r.job.state }),
            ...(r.replayed && { replayed: true }),
            ...(r.error && { error: { code: r.error.code, message: r.error.message } }),
          });
        }
        report();
        if (again.length === 0) return;
        await sleep(waitMs);
        batch = again;
      } catch (err) {
        const status = err instanceof ApiError ? err.status : 'no answer';
        if (!batchRetryable(err) || (batch[0]?.tries ?? MAX_TRIES) >= MAX_TRIES) {
          // Refused as a whole (a 400, auth, too many tries): every line of it says why.
          const code = err instanceof ApiError ? (err.code ?? `HTTP_${err.status}`) : 'UNREACHABLE';
          const message = err instanceof Error ? err.message : String(err);
          for (const l of batch) results.push({ line: l.line, error: { code, message } });
          report();
          return;
        }
        const retryAfter = err instanceof ApiError ? err.retryAfter : undefined;
        const waitMs = retryWaitMs(retryAfter ?? null, batch[0]?.tries ?? 1, Date.now());
        if (!tty)
          say(io.stderr, `busy (${status}): retrying ${batch.length} lines in ${Math.ceil(waitMs / 1000)} s`);
        await sleep(waitMs);
      }
    }
  };

  const batches: Line[][] = [];
  for (let i = 0; i < pending.length; i += FILE_BATCH_SIZE)
    batches.push(pending.slice(i, i + FILE_BATCH_SIZE));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++];
      if (batch) await sendBatch(batch);
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCHES_IN_FLIGHT, batches.length) }, worker));
  bar.finish();

  results.sort((a, b) => a.line - b.line);
  for (const r of results)
    await writeLine(io.stdout, ctx.values.json === true ? JSON.stringify(r) : plain(r));
  const refused = results.filter((r) => r.error);
  say(io.stderr, `${total - refused.length} of ${total} lines queued, ${refused.length} refused`);
  for (const r of refused) say(io.stderr, `  line ${r.line}: ${r.error?.code}: ${r.error?.message}`);
  return refused.length === 0 ? EXIT.ok : EXIT.api;
}

/** `line<TAB>jobId<TAB>STATE`, or `line<TAB>-<TAB>REFUSED CODE: message`. */
function plain(r: LineResult): string {
  if (r.error) return `${r.line}\t-\tREFUSED ${r.error.code}: ${r.error.message}`;
  return `${r.line}\t${r.jobId}\t${r.state}${r.replayed ? ' (already submitted)' : ''}`;
}

/** A batch job, or why the line is not one. The API checks the fields; only the shape is checked here. */
function parseLine(raw: string): BatchJob | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return 'not JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'not a JSON object ({"input": {...}, "endpoint"?, "metadata"?, "policy"?, "idempotencyKey"?})';
  if (!('input' in value)) return 'no "input"';
  return value as BatchJob;
}
