// Retry timing: exponential backoff with full jitter, and the Retry-After header of a 429.

/** Retry budget and the bounds of the exponential backoff between attempts. */
export interface RetrySettings {
  /** Attempts in total, the first one included (1 = never retry). */
  maxAttempts: number;
  baseBackoffMs: number;
  /** Cap of one wait; a Retry-After longer than this is not waited for, the 429 is thrown instead. */
  maxBackoffMs: number;
}

/** Upper bound of the wait after failed attempt number `attempt` (1-based): base·2^(attempt-1), capped. */
export function backoffCeilingMs(settings: RetrySettings, attempt: number): number {
  return Math.min(settings.maxBackoffMs, settings.baseBackoffMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Full jitter (a uniform draw in [0, ceiling)): spreads the retries of many callers hit by the same
 * outage or 429 so they do not come back in lockstep.
 */
export function fullJitterBackoffMs(settings: RetrySettings, attempt: number, random: () => number): number {
  return Math.floor(random() * backoffCeilingMs(settings, attempt));
}

/**
 * The wait a 429 without Retry-After names: equal jitter (half the ceiling plus a random half), so it is
 * never near zero for the caller that reschedules on it, yet concurrent callers still spread out.
 */
export function defaultRetryAfterMs(settings: RetrySettings, attempt: number, random: () => number): number {
  const ceiling = backoffCeilingMs(settings, attempt);
  return Math.ceil(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Parses Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3) into milliseconds from `nowMs`.
 * Returns undefined when the header is absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Date.parse reads bare numbers such as "-5" as years; an HTTP-date always names its month.
  const at = /[A-Za-z]/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
