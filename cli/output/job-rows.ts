// Jobs as table rows and CSV records: the columns `archiver list` shows.
import type { Job } from '../api/schemas.ts';
import { csvRow } from './csv.ts';
import { formatBytes, formatTags, formatTime, shortPrincipal } from './format.ts';
import type { Column } from './table.ts';

export const JOB_TABLE_COLUMNS: Column[] = [
  { header: 'JOB ID' },
  { header: 'CREATED' },
  { header: 'ENDPOINT' },
  { header: 'STATE' },
  { header: 'UPSTREAM' },
  { header: 'CAPTURED BY' },
  { header: 'RESULT', align: 'right' },
  { header: 'TAGS' },
  { header: 'SUBMITTED BY' },
];

export function jobTableRow(job: Job): string[] {
  const artifacts = job.artifacts?.length ? ` +${job.artifacts.length}` : '';
  return [
    job.jobId,
    formatTime(job.createdAt),
    job.endpoint,
    job.state,
    job.upstreamStatus ?? '',
    job.captureSource ?? '',
    job.resultBytes === undefined ? '' : `${formatBytes(job.resultBytes)}${artifacts}`,
    formatTags(job.metadata),
    shortPrincipal(job.submittedBy ?? job.trackedBy),
  ];
}

export const JOB_CSV_HEADER = [
  'jobId',
  'createdAt',
  'endpoint',
  'state',
  'upstreamStatus',
  'upstreamId',
  'origin',
  'captureSource',
  'submittedAt',
  'finishedAt',
  'archivedAt',
  'resultBytes',
  'artifacts',
  'metadata',
  'reason',
  'submittedBy',
  'trackedBy',
] as const;

/** One CSV record; metadata as a JSON object so any key or value survives the round trip. */
export function jobCsvRecord(job: Job): string {
  return csvRow([
    job.jobId,
    job.createdAt,
    job.endpoint,
    job.state,
    job.upstreamStatus,
    job.upstreamId,
    job.origin,
    job.captureSource,
    job.submittedAt,
    job.finishedAt,
    job.archivedAt,
    job.resultBytes,
    job.artifacts?.length ?? 0,
    job.metadata ? JSON.stringify(job.metadata) : '',
    job.reason,
    job.submittedBy,
    job.trackedBy,
  ]);
}
