// Which failed upstream calls are sent again, and after how long.
import {
  type UpstreamError,
  UpstreamRateLimitedError,
  UpstreamServerError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../core/errors.ts';
import { fullJitterBackoffMs, type RetrySettings } from './backoff.ts';
import { UpstreamConnectionLostError } from './error-mapping.ts';

export interface RetryContext {
  /** Whether sending the operation twice is harmless (see OPERATIONS). */
  idempotent: boolean;
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  retry: RetrySettings;
  random: () => number;
}

/**
 * Milliseconds to wait before the next attempt, or undefined to give up and throw. Failures that prove the
 * upstream did not take the request (429, never connected) are retried for every operation; ambiguous
 * ones (5xx, timeout, broken connection) only for idempotent operations, because a second /run could
 * start a second GPU job. 404, auth and other 4xx answers and unreadable bodies are never retried.
 */
export function retryDelayMs(error: UpstreamError, context: RetryContext): number | undefined {
  const { attempt, retry, random } = context;
  if (attempt >= retry.maxAttempts) return undefined;
  if (error instanceof UpstreamRateLimitedError) {
    // Waiting longer than one backoff cap would stall the caller; it gets the 429 and its retryAfterMs.
    return error.retryAfterMs <= retry.maxBackoffMs ? error.retryAfterMs : undefined;
  }
  if (error instanceof UpstreamUnreachableError) return fullJitterBackoffMs(retry, attempt, random);
  const ambiguous =
    error instanceof UpstreamServerError ||
    error instanceof UpstreamTimeoutError ||
    error instanceof UpstreamConnectionLostError;
  if (ambiguous && context.idempotent) return fullJitterBackoffMs(retry, attempt, random);
  return undefined;
}
