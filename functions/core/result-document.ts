// result.json: the upstream status object as received, inside a small envelope that names the job and its provenance.
import { createHash } from 'node:crypto';
import type { UpstreamStatus } from '../schemas/upstream.ts';
import { resultKey } from './archive-keys.ts';
import { canonicalJson } from './canonical-json.ts';
import type { Job, Provenance } from './job.ts';
import { wholeStatus } from './lean-output.ts';

/** 2: the envelope says how the status is known (`provenance`); 1 had no such field (all from before it). */
export const RESULT_SCHEMA_VERSION = 2;

/**
 * Where a result of each provenance is kept. Each key only ever holds one provenance, so every write to a key
 * is a pure function of the status: a capture that lost its lease and writes late, or a retry after a crash,
 * rewrites the same bytes and can never turn a verified result.json into an as-delivered one. A verified
 * result of a job first archived as delivered lands beside the delivered one, which stays as evidence.
 */
export function resultKeyFor(job: Pick<Job, 'jobId' | 'createdAt'>, provenance: Provenance): string {
  const key = resultKey(job.jobId, job.createdAt);
  return provenance === 'verified' ? key : key.replace(/result\.json$/, 'result.as-delivered.json');
}

/**
 * Digest of a status as compared by background verification: key order and whitespace do not count.
 * Undefined for a status nested too deep to walk (RangeError): it can then never match, so /status wins.
 */
export function statusDigest(status: UpstreamStatus): string | undefined {
  try {
    return createHash('sha256')
      .update(canonicalJson(statusOnly(wholeStatus(status))))
      .digest('base64url');
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

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
 * second buffer. The envelope depends only on the job and the provenance (never on who captured it or when),
 * and each provenance has its own key (resultKeyFor), so every capture of one status to one key writes the
 * same bytes.
 */
export function resultDocumentChunks(
  job: Job,
  upstreamId: string,
  statusJson: Uint8Array | readonly Uint8Array[],
  provenance: Provenance,
): Uint8Array[] {
  const envelope = JSON.stringify({
    schemaVersion: RESULT_SCHEMA_VERSION,
    jobId: job.jobId,
    endpoint: job.endpoint,
    upstreamId,
    createdAt: job.createdAt,
    provenance,
  });
  const status = statusJson instanceof Uint8Array ? [statusJson] : statusJson;
  return [Buffer.from(`{"archive":${envelope},"status":`), ...status, Buffer.from('}\n')];
}
