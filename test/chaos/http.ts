// Plain HTTP for the chaos clients: every answer (or network failure) comes back as a value, never a throw.
import type { PublicJob } from '../../functions/core/results.ts';

export interface Answer {
  /** HTTP status, or 0 when no answer came (refused, reset, timed out). */
  status: number;
  headers?: Headers;
  body: unknown;
  networkError?: string;
}

/** The client gives up on one request after this (the gateway answers 503 at 30 s). */
const REQUEST_TIMEOUT_MS = 35_000;

export async function send(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // API Gateway's own messages and proxies' HTML stay text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { status: 0, body: undefined, networkError: cause ?? String(error) };
  }
}

/** `error.code` of the API's error bodies. */
export function errorCode(answer: Answer): string | undefined {
  const code = (answer.body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A 429's `Retry-After` in milliseconds (seconds or an HTTP date), undefined for any other answer. */
export function retryAfterMs(answer: Answer, nowMs = Date.now()): number | undefined {
  const header = answer.status === 429 ? answer.headers?.get('retry-after') : null;
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** `job` of a 2xx answer. */
export function jobOf(answer: Answer): PublicJob | undefined {
  const job = (answer.body as { job?: PublicJob } | undefined)?.job;
  return job && typeof job.jobId === 'string' ? job : undefined;
}

/** What a client does with an answer to a request it may repeat with the same Idempotency-Key. */
export type Verdict = 'done' | 'retry' | 'refused' | 'broken';

/**
 * 2xx: done. Transient failures (no answer, 5xx of ours, upstream 5xx/timeouts which leave the job
 * ambiguous, 429): retry with the same key. A certain upstream refusal made the job REJECTED: `refused`
 * (the key is free again, a retry starts a new job). Any other 4xx is a client bug or an archiver bug.
 */
export function verdictOf(answer: Answer): Verdict {
  if (answer.status >= 200 && answer.status < 300) return 'done';
  const code = errorCode(answer);
  if (code === 'UPSTREAM_RATE_LIMITED' || code === 'UPSTREAM_UNREACHABLE' || code === 'UPSTREAM_REFUSED')
    return 'refused';
  if (answer.status === 0 || answer.status >= 500) return 'retry';
  return 'broken';
}
