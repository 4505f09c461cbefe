// `archiver list`: jobs by time range, state, endpoint and tag, as a table, JSON or CSV; --all follows cursors.
import type { Job, ListQuery } from '../api/schemas.ts';
import { boolFlag, noExtraArgs, type ParsedValues, parseIntFlag, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError } from '../errors.ts';
import { connectionFlags, FILTER_FLAGS, listQueryOf, queryFlags } from '../list-query.ts';
import { csvRow } from '../output/csv.ts';
import { JOB_CSV_HEADER, JOB_TABLE_COLUMNS, jobCsvRecord, jobTableRow } from '../output/job-rows.ts';
import { renderTable } from '../output/table.ts';
import { say, write, writeLine } from '../output/write.ts';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

function formatOf(values: ParsedValues): Format {
  const text = stringFlag(values, 'format') ?? 'table';
  const format = FORMATS.find((f) => f === text);
  if (!format) throw new UsageError(`--format must be table, json or csv, not "${text}"`);
  return format;
}

const USAGE =
  'list [--from T] [--to T] [--state S] [--endpoint E] [--tag k=v] [--principal ARN] [--limit N] [--all] [--format F]';

export const listCommand: Command = {
  name: 'list',
  summary: 'list jobs, newest first, by time range, state, endpoint and tag (table, JSON or CSV)',
  usage: [USAGE],
  description: [
    'One page (--limit, default 25) unless --all, which follows the cursors to the end. When more pages',
    'remain, stderr says how to get the next one (--cursor with the same --from/--to). JSON output is',
    '{"jobs":[...],"cursor":"..."} like the API; CSV has one header line and one record per job.',
  ],
  flags: {
    ...FILTER_FLAGS,
    limit: { type: 'string', value: 'N', description: 'jobs per page, 1-100 (default 25; 100 with --all)' },
    cursor: {
      type: 'string',
      value: 'CURSOR',
      description: 'continue a listing (same filters and --from/--to)',
    },
    all: { type: 'boolean', description: 'follow cursors and print every matching job' },
    format: { type: 'string', value: 'FORMAT', description: 'table (default), json or csv' },
  },
  examples: [
    'archiver list',
    'archiver list --from 24h --state ARCHIVED --tag team=vision',
    'archiver list --principal arn:aws:sts::123456789012:assumed-role/Admin/alice',
    'archiver list --from 2026-11-01 --to 2026-12-01 --all --format csv > november.csv',
  ],
  async run(ctx) {
    const { io, values } = ctx;
    noExtraArgs(ctx.positionals, 0, `archiver ${USAGE}`);
    const format = formatOf(values);
    const all = boolFlag(values, 'all');
    const limitText = stringFlag(values, 'limit');
    const limit = limitText === undefined ? (all ? 100 : 25) : parseIntFlag(limitText, 'limit', 1, 100);
    const cursor = stringFlag(values, 'cursor');
    const query: ListQuery = {
      ...listQueryOf(values, io.now()),
      limit,
      ...(cursor !== undefined && { cursor }),
    };
    const api = ctx.api();

    const jobs: Job[] = [];
    let next: string | undefined;
    if (format === 'csv') await write(io.stdout, csvRow(JOB_CSV_HEADER));
    for await (const page of api.pages(query)) {
      // CSV streams page by page; a table needs every row for its widths, JSON is one document.
      if (format === 'csv') for (const job of page.jobs) await write(io.stdout, jobCsvRecord(job));
      else jobs.push(...page.jobs);
      next = page.cursor;
      if (!all) break;
    }
    if (format === 'json')
      await writeLine(
        io.stdout,
        JSON.stringify({ jobs, ...(next !== undefined && { cursor: next }) }, null, 2),
      );
    if (format === 'table') {
      if (jobs.length === 0) say(io.stderr, `no jobs from ${query.from} to ${query.to} match`);
      else
        for (const line of renderTable(JOB_TABLE_COLUMNS, jobs.map(jobTableRow)))
          await writeLine(io.stdout, line);
    }
    if (next !== undefined && !all)
      say(
        io.stderr,
        `more jobs: archiver ${connectionFlags(values)}list ${queryFlags(query)} --limit ${limit} --cursor ${next}${format === 'table' ? '' : ` --format ${format}`}   (or --all)`,
      );
    return EXIT.ok;
  },
};
