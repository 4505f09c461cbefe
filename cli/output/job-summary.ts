// The readable view of one job (`archiver get`): state, times, timings, archive keys, artifacts and tags.
import type { Job, JobView } from '../api/schemas.ts';
import { formatBytes, formatDuration, formatState, formatTags, formatTime } from './format.ts';
import { oneLine } from './sanitize.ts';
import { renderTable } from './table.ts';

/** One line for commands that report a job in passing (submit, cancel, track, reconcile). */
export function jobLine(job: Job): string {
  const extra = job.reason
    ? ` — ${job.reason}`
    : job.submitAmbiguous && !isFinished(job)
      ? ' — submit ambiguous'
      : '';
  return oneLine(`${job.jobId}  ${formatState(job)}${extra}`);
}

export function jobSummary(view: JobView): string[] {
  const { job } = view;
  const rows: Array<[string, string | undefined]> = [
    ['endpoint', job.endpoint],
    ['origin', job.origin],
    ['submitted by', job.submittedBy],
    ['tracked by', job.trackedBy],
    ['upstream id', job.upstreamId],
    [
      'submit',
      !job.submitAmbiguous
        ? undefined
        : isFinished(job)
          ? 'was ambiguous (the /run answer was lost), since settled'
          : 'ambiguous: the upstream may have the job (see `archiver reconcile`)',
    ],
    ['created', formatTime(job.createdAt)],
    ['submitted', formatTime(job.submittedAt)],
    ['finished', formatTime(job.finishedAt)],
    [
      'archived',
      job.archivedAt && `${formatTime(job.archivedAt)}${job.captureSource ? ` by ${job.captureSource}` : ''}`,
    ],
    [
      'provenance',
      job.provenance && `${job.provenance}${job.verification ? ` (verification ${job.verification})` : ''}`,
    ],
    ['expired', formatTime(job.expiredAt)],
    ['rejected', formatTime(job.rejectedAt)],
    ['timings', timings(job)],
    ['reason', job.reason],
    ['input', job.inputKey && `${job.inputKey} (${formatBytes(job.inputBytes)})`],
    ['result', job.resultKey && `${job.resultKey} (${formatBytes(job.resultBytes)})`],
    ['tags', formatTags(job.metadata)],
    ['looks', !isFinished(job) && job.looks ? String(job.looks) : undefined],
  ];
  const lines = [oneLine(`Job ${job.jobId}  ${formatState(job)}`)];
  for (const [label, value] of rows) if (value) lines.push(`  ${label.padEnd(14)}${oneLine(value)}`);
  const artifacts = job.artifacts ?? [];
  if (artifacts.length > 0) {
    lines.push(`  ${'artifacts'.padEnd(14)}${artifacts.length}`);
    const table = renderTable(
      [{ header: 'FILE' }, { header: 'TYPE' }, { header: 'SIZE', align: 'right' }, { header: 'FROM' }],
      artifacts.map((a) => [baseName(a.key), a.contentType, formatBytes(a.bytes), a.from ?? '']),
    );
    for (const line of table) lines.push(`    ${line}`);
  }
  if (view.links.expiresInSeconds !== undefined && (view.links.result || view.links.input))
    lines.push(`  download links valid ${view.links.expiresInSeconds} s: \`archiver download ${job.jobId}\``);
  return lines;
}

function timings(job: Job): string | undefined {
  const parts: string[] = [];
  if (job.delayTime !== undefined) parts.push(`queued ${formatDuration(job.delayTime)}`);
  if (job.executionTime !== undefined) parts.push(`ran ${formatDuration(job.executionTime)}`);
  return parts.length ? parts.join(', ') : undefined;
}

function isFinished(job: Job): boolean {
  return job.state === 'ARCHIVED' || job.state === 'EXPIRED' || job.state === 'REJECTED';
}

export function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
