// `archiver download`: a job's input, result and artifacts into DIR/<jobId>/, sizes checked against the record.
import { lstat, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JobView } from '../api/schemas.ts';
import { jobIdArg, stringFlag } from '../args.ts';
import type { Command } from '../command.ts';
import { ApiError, CliError, EXIT, UsageError } from '../errors.ts';
import { downloadToFile } from '../http/download-file.ts';
import { count, formatBytes, formatState } from '../output/format.ts';
import { baseName } from '../output/job-summary.ts';
import { createProgressBar } from '../output/progress.ts';
import { say, writeLine } from '../output/write.ts';

const USAGE = 'download <jobId> [--out DIR]';
/** Job ids are ULIDs: 26 characters of Crockford's base32. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const FILE_TIMEOUT_MS = 30 * 60_000;

export interface PlannedFile {
  /** Relative to the job's folder: input.json, result.json, artifacts/<name>. */
  name: string;
  url: string;
  /** What the job record says; the download must match it. */
  expectedBytes?: number;
}

/** What there is to fetch; artifact names are reduced to a safe base name so no key can escape the folder. */
export function planDownload(view: JobView): PlannedFile[] {
  const { job, links } = view;
  const files: PlannedFile[] = [];
  if (links.input)
    files.push({
      name: 'input.json',
      url: links.input,
      ...(job.inputBytes !== undefined && { expectedBytes: job.inputBytes }),
    });
  if (links.result)
    files.push({
      name: 'result.json',
      url: links.result,
      ...(job.resultBytes !== undefined && { expectedBytes: job.resultBytes }),
    });
  const seen = new Set<string>();
  for (const artifact of links.artifacts) {
    let name = safeFileName(baseName(artifact.key));
    for (let n = 2; seen.has(name); n++) name = `${n}-${name}`;
    seen.add(name);
    files.push({ name: `artifacts/${name}`, url: artifact.url, expectedBytes: artifact.bytes });
  }
  return files;
}

export function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned || 'artifact';
}

export const downloadCommand: Command = {
  name: 'download',
  summary: "save a job's input, result and artifacts to DIR/<jobId>/ (with a progress bar)",
  usage: [USAGE],
  description: [
    'Writes DIR/<jobId>/input.json, result.json and artifacts/<name> from the presigned links of',
    'GET /jobs/{id}, each checked against the size the job record gives; prints the folder on stdout.',
    'A job not archived yet has only its input; the missing parts are named on stderr.',
  ],
  flags: {
    out: { type: 'string', value: 'DIR', description: 'parent folder (default: the current folder)' },
  },
  examples: ['archiver download 01M8MBK7CZYSBNNNQ4WA2P5V5X --out ./results'],
  async run(ctx) {
    const { io } = ctx;
    const jobId = jobIdArg(ctx.positionals, `archiver ${USAGE}`);
    if (!ULID.test(jobId))
      throw new UsageError(
        `"${jobId}" is not a job id (26 letters and digits, e.g. 01M8MBK7CZYSBNNNQ4WA2P5V5X)`,
      );
    const view = await ctx.api().get(jobId);
    // The folder is named from the id we asked for, and only once the API's answer is that same job: an id
    // from the network never becomes a path (`../x`, `/etc`).
    if (view.job.jobId.toUpperCase() !== jobId)
      throw new ApiError(
        `the API answered job "${view.job.jobId}" for ${jobId}: refusing to write files for it`,
        EXIT.api,
        200,
        'UNEXPECTED_JOB',
      );
    const folder = resolve(stringFlag(ctx.values, 'out') ?? '.', jobId);
    const files = planDownload(view);
    if (!view.links.result) say(io.stderr, `no result archived yet (${formatState(view.job)})`);
    if (files.length === 0)
      throw new CliError(`job ${jobId} has nothing archived to download`, EXIT.notFound);
    await makeFolder(
      folder,
      files.some((f) => f.name.startsWith('artifacts/')),
    );

    const total = files.reduce((sum, f) => sum + (f.expectedBytes ?? 0), 0);
    const bar = createProgressBar(io.stderr, total);
    let before = 0;
    try {
      for (const file of files) {
        const bytes = await downloadToFile(file.url, join(folder, file.name), {
          signal: io.signal,
          timeoutMs: FILE_TIMEOUT_MS,
          label: file.name,
          onBytes: (n) =>
            bar.update(before + n, `${formatBytes(before + n)} / ${formatBytes(total)}  ${file.name}`),
        });
        if (file.expectedBytes !== undefined && bytes !== file.expectedBytes)
          throw new ApiError(
            `${file.name} is ${bytes} bytes but the job record says ${file.expectedBytes}`,
            EXIT.api,
            200,
            'SIZE_MISMATCH',
          );
        before += bytes;
        bar.log(`${file.name}  ${formatBytes(bytes)}`);
      }
    } finally {
      bar.finish();
    }
    say(
      io.stderr,
      `downloaded ${count(files.length, 'file')} (${formatBytes(before)}) of job ${view.job.jobId}`,
    );
    await writeLine(io.stdout, folder);
    return EXIT.ok;
  },
};

async function makeFolder(folder: string, artifacts: boolean): Promise<void> {
  try {
    await mkdir(artifacts ? join(folder, 'artifacts') : folder, { recursive: true });
  } catch (err) {
    throw new CliError(
      `cannot create ${folder}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      EXIT.usage,
    );
  }
  // mkdir accepts an existing link to a folder elsewhere; files must land in the folder named, nowhere else.
  for (const dir of artifacts ? [folder, join(folder, 'artifacts')] : [folder]) {
    const info = await lstat(dir);
    if (info.isSymbolicLink() || !info.isDirectory())
      throw new CliError(`${dir} is a symbolic link or not a folder: not writing through it`, EXIT.usage);
  }
}
