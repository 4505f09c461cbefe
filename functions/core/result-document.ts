// result.json: the upstream status object as received, inside a small envelope that names the job.
import type { UpstreamStatus } from '../schemas/upstream.ts';
import type { Job } from './job.ts';

export const RESULT_SCHEMA_VERSION = 1;

/** Fields of webhook bodies that are not part of the status object: `webhook` holds the job's token. */
const DELIVERY_FIELDS = ['webhook', 'input'] as const;

/** The status object without the delivery fields a webhook adds. */
export function statusOnly(status: UpstreamStatus): UpstreamStatus {
  if (!DELIVERY_FIELDS.some((f) => f in status)) return status;
  const copy: Record<string, unknown> = { ...status };
  for (const f of DELIVERY_FIELDS) delete copy[f];
  return copy as UpstreamStatus;
}

/**
 * The bytes of result.json as chunks, so a large status body (raw from /status) is never copied into a
 * second buffer. The envelope depends only on the job, so every capture of one status writes the same bytes.
 */
export function resultDocumentChunks(job: Job, upstreamId: string, statusJson: Uint8Array): Uint8Array[] {
  const envelope = JSON.stringify({
    schemaVersion: RESULT_SCHEMA_VERSION,
    jobId: job.jobId,
    endpoint: job.endpoint,
    upstreamId,
    createdAt: job.createdAt,
  });
  return [Buffer.from(`{"archive":${envelope},"status":`), statusJson, Buffer.from('}\n')];
}
