// Turns upstream HTTP answers and fetch failures into the typed Upstream*Error family of core/errors.ts.
import {
  UpstreamError,
  UpstreamInvalidResponseError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamRefusedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnauthorizedError,
  UpstreamUnreachableError,
} from '../../core/errors.ts';

/**
 * The connection broke after the request may have been sent (reset, closed mid-answer). Ambiguous like a
 * timeout: retried only for idempotent operations. A subclass, so callers that know only core/errors.ts
 * still see an UpstreamInvalidResponseError (not certainly accepted, not certainly refused).
 */
export class UpstreamConnectionLostError extends UpstreamInvalidResponseError {
  constructor(
    operation: string,
    readonly causeCode: string,
  ) {
    super(operation, `connection lost (${causeCode})`);
  }
}

/** Error codes that mean no connection was ever made, so no request byte reached the upstream. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Maps a non-2xx answer; `retryAfterMs` is what the 429 asks for, already resolved against defaults. */
export function errorForStatus(
  operation: string,
  status: number,
  body: Uint8Array,
  context: { upstreamId?: string; retryAfterMs: number },
): UpstreamError {
  if (status === 429) return new UpstreamRateLimitedError(operation, context.retryAfterMs);
  if (status === 404) return new UpstreamNotFoundError(operation, context.upstreamId);
  if (status === 401 || status === 403) return new UpstreamUnauthorizedError(operation, status);
  if (status >= 500) return new UpstreamServerError(operation, status);
  if (status >= 400) return new UpstreamRefusedError(operation, status, excerpt(body));
  // 1xx/3xx reaching us means fetch did not follow or the upstream misbehaved; we cannot read it as JSON.
  return new UpstreamInvalidResponseError(operation, `HTTP ${status}`);
}

/** Maps what fetch (or reading its body) threw; `timedOut` says our own timeout aborted it. */
export function errorForFailure(
  operation: string,
  thrown: unknown,
  timeout: { timedOut: boolean; timeoutMs: number },
): UpstreamError {
  if (thrown instanceof UpstreamError) return thrown;
  if (timeout.timedOut) return new UpstreamTimeoutError(operation, timeout.timeoutMs);
  const codes = causeCodes(thrown);
  const neverConnected = codes.find((code) => NEVER_CONNECTED.has(code));
  if (neverConnected !== undefined) return new UpstreamUnreachableError(operation, neverConnected);
  return new UpstreamConnectionLostError(operation, codes[0] ?? describe(thrown));
}

/** undici wraps the socket error as `err.cause`; with several addresses it may be an AggregateError. */
function causeCodes(thrown: unknown): string[] {
  const codes: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3 || typeof value !== 'object' || value === null) return;
    const record = value as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === 'string') codes.push(record.code);
    visit(record.cause, depth + 1);
    if (Array.isArray(record.errors)) {
      for (const inner of record.errors) visit(inner, depth + 1);
    }
  };
  visit(thrown, 0);
  return codes;
}

function describe(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message.slice(0, 200);
  return 'unknown network error';
}

function excerpt(body: Uint8Array): string {
  return new TextDecoder().decode(body.subarray(0, 2000));
}
