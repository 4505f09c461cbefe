// Idempotency-Key claims for POST /jobs (submit and queue alike): one job per key and request, per caller.
import { createHash } from 'node:crypto';
import type { SubmitRequest } from '../schemas/api.ts';
import { requestHash } from './canonical-json.ts';
import { IdempotencyConflictError } from './errors.ts';
import type { ServiceDeps } from './services.ts';

/** A key names one request for a day; a retry after that is a new request. */
const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/**
 * Idempotency keys belong to their caller: the same key from two principals names two requests, and one
 * caller can neither replay nor block another's. The principal is hashed so the store key stays short.
 */
export function scopedIdempotencyKey(key: string, principal: string | undefined): string {
  const scope = principal ? createHash('sha256').update(principal).digest('hex').slice(0, 32) : 'anonymous';
  return `${scope}:${key}`;
}

export interface RequestKey {
  idempotencyKey: string;
  principal: string | undefined;
  request: SubmitRequest;
  /** The endpoint the request resolved to: part of what the key names. */
  endpoint: string;
}

/**
 * Claims the key for `jobId`. Undefined when claimed (a new request); otherwise the job id an earlier request
 * with the same key and body claimed it for. The same key with another body throws IdempotencyConflictError.
 */
export async function claimRequestKey(
  deps: Pick<ServiceDeps, 'jobs'>,
  { idempotencyKey, principal, request, endpoint }: RequestKey,
  jobId: string,
  nowMs: number,
): Promise<string | undefined> {
  const hash = requestHash({ ...request, endpoint });
  const claim = await deps.jobs.claimIdempotencyKey({
    key: scopedIdempotencyKey(idempotencyKey, principal),
    requestHash: hash,
    jobId,
    nowMs,
    expiresAtMs: nowMs + IDEMPOTENCY_TTL_MS,
  });
  if (claim.claimed) return undefined;
  if (claim.requestHash !== hash) throw new IdempotencyConflictError(idempotencyKey, claim.jobId);
  return claim.jobId;
}
