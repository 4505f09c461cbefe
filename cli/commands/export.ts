// `archiver export`: every job of a time range as JSON lines, streamed page by page, resumable from a printed cursor.
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { ListQuery } from '../api/schemas.ts';
import { noExtraArgs, parseIntFlag, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import type { OutStream } from '../context.ts';
import { CliError, EXIT, type ExitCode, InterruptedError, UsageError } from '../errors.ts';
import { type ExportResult, exportJobs } from '../exporter.ts';
import { connectionFlags, FILTER_FLAGS, listQueryOf, queryFlags, shellQuote } from '../list-query.ts';
import { count, formatTime } from '../output/format.ts';
import { createStatusLine } from '../output/progress.ts';
import { say, write } from '../output/write.ts';

const USAGE = 'export [--from T] [--to T] [--cursor C] [--out FILE.jsonl] [filters]';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write every job of a time range as JSON lines (streamed, resumable from a cursor)',
  usage: [USAGE],
  description: [
    'One job record per line, newest first, written as each page (100 jobs) arrives. If the export stops',
    '(Ctrl-C, a network or API error, --max-pages), stderr prints the exact command that continues it:',
    'the same filters with --cursor; with --out the file is appended to, so the result has every job once.',
    'Without --out the lines go to stdout. Progress (by creation time) is shown on stderr.',
  ],
  flags: {
    ...FILTER_FLAGS,
    cursor: { type: 'string', value: 'CURSOR', description: 'resume where a previous export stopped' },
    out: {
      type: 'string',
      value: 'FILE',
      description: 'write to FILE (appended to with --cursor) instead of stdout',
    },
    'page-size': { type: 'string', value: 'N', description: 'jobs per request, 1-100 (default 100)' },
    'max-pages': {
      type: 'string',
      value: 'N',
      description: 'stop after N pages and print the cursor to continue',
    },
  },
  examples: [
    'archiver export --from 2026-11-01 --to 2026-12-01 --out november.jsonl',
    'archiver export --from 2026-11-01T00:00:00.000Z --to 2026-12-01T00:00:00.000Z --cursor eyJ2Ij... --out november.jsonl',
    'archiver export --from 7d --state ARCHIVED | gzip > week.jsonl.gz',
  ],
  async run(ctx) {
    const { io, values } = ctx;
    noExtraArgs(ctx.positionals, 0, `archiver ${USAGE}`);
    const pageSizeText = stringFlag(values, 'page-size');
    const maxPagesText = stringFlag(values, 'max-pages');
    const startCursor = stringFlag(values, 'cursor');
    const outPath = stringFlag(values, 'out');
    const query: ListQuery = {
      ...listQueryOf(values, io.now()),
      limit: pageSizeText === undefined ? 100 : parseIntFlag(pageSizeText, 'page-size', 1, 100),
    };
    const api = ctx.api();
    const file = outPath === undefined ? undefined : await openOut(outPath, startCursor !== undefined);
    const sink = file ?? io.stdout;

    // Progress by count and by how far back the export has reached: jobs are rarely spread evenly over the
    // range, so a percentage of the time span would sit at 0% for a week's range of recent jobs.
    const status = createStatusLine(io.stderr);
    const tty = io.stderr.isTTY === true;
    let lastLine = 0;
    const result = await exportJobs({
      fetchPage: (cursor) => api.list({ ...query, ...(cursor !== undefined && { cursor }) }),
      ...(startCursor !== undefined && { startCursor }),
      writeLine: (line) => write(sink, `${line}\n`),
      signal: io.signal,
      ...(maxPagesText !== undefined && { maxPages: parseIntFlag(maxPagesText, 'max-pages', 1, 1_000_000) }),
      onPage: ({ jobs, oldestCreatedAt }) => {
        if (jobs === 0) return;
        const text = `exported ${count(jobs, 'job')}, back to ${formatTime(oldestCreatedAt)} (range starts ${formatTime(query.from)})`;
        if (tty) status.set(text);
        else if (Date.now() - lastLine > 2000) {
          lastLine = Date.now();
          status.set(text);
        }
      },
    });
    status.finish();
    if (file) await closeOut(file);
    return report(io.stderr, result, query, outPath, connectionFlags(values));
  },
};

async function openOut(path: string, append: boolean): Promise<WriteStream> {
  const stream = createWriteStream(path, { flags: append ? 'a' : 'w' });
  try {
    await once(stream, 'open');
  } catch (err) {
    throw new UsageError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return stream;
}

async function closeOut(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

/** The summary on stderr, with the command that continues when the export did not reach the end. */
function report(
  stderr: OutStream,
  result: ExportResult,
  query: ListQuery,
  outPath: string | undefined,
  connection: string,
): ExitCode {
  const where = outPath ? ` to ${outPath}` : '';
  if (result.outcome === 'done') {
    say(
      stderr,
      result.jobs === 0
        ? `no jobs from ${query.from} to ${query.to} match: nothing exported${where ? ` (${outPath} is empty)` : ''}`
        : `exported ${count(result.jobs, 'job')}${where} (${query.from} to ${query.to})`,
    );
    return EXIT.ok;
  }
  const resume = [
    `continue with: archiver ${connection}export ${queryFlags(query)}`,
    query.limit !== 100 ? ` --page-size ${query.limit}` : '',
    result.resumeCursor !== undefined ? ` --cursor ${result.resumeCursor}` : '',
    outPath ? ` --out ${shellQuote(outPath)}` : '',
  ].join('');
  const hints =
    result.resumeCursor === undefined ? ['nothing was written yet: run the same command again'] : [resume];
  if (result.outcome === 'paused') {
    say(stderr, `exported ${count(result.jobs, 'job')}${where}; more remain`);
    say(stderr, resume);
    return EXIT.ok;
  }
  if (result.outcome === 'interrupted')
    throw new InterruptedError(`export interrupted after ${count(result.jobs, 'job')}${where}`, hints);
  const cause = result.error;
  if (cause instanceof CliError)
    throw new CliError(
      `export stopped after ${count(result.jobs, 'job')}${where}: ${cause.message}`,
      cause.exitCode,
      [...cause.hints, ...hints],
    );
  throw new CliError(
    `export stopped after ${count(result.jobs, 'job')}${where}: ${String(cause)}`,
    EXIT.usage,
    hints,
  );
}
