// The small family of typed errors; functions/http/errors.ts maps each to one HTTP answer.
import { redactText, redactValue } from './redaction.ts';

/** Base of every error this system raises on purpose: a stable machine code plus details safe to show. */
export class ArchiverError extends Error {
  readonly details?: Record<string, unknown>;

  constructor(
    readonly code: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    // Redacted at birth: messages and details are logged, answered and stored (reasons, audit events), and
    // an upstream that echoes our /run body puts a callback token in them.
    super(redactText(message));
    if (details !== undefined) this.details = redactValue(details);
    this.name = new.target.name;
  }

  /** Adds a detail for the client (e.g. the job id an upstream failure belongs to). */
  withDetail(key: string, value: unknown): this {
    (this as { details?: Record<string, unknown> }).details = { ...this.details, [key]: redactValue(value) };
    return this;
  }
}

/** Client input that fails validation (bad JSON, wrong types, unknown fields). */
export class ValidationError extends ArchiverError {
  constructor(message: string, details?: Record<string, unknown>, code = 'INVALID_REQUEST') {
    super(code, message, details);
  }
}

export class PayloadTooLargeError extends ArchiverError {
  constructor(limitBytes: number, actualBytes: number) {
    super('PAYLOAD_TOO_LARGE', `Body of ${actualBytes} bytes is over the ${limitBytes}-byte limit`, {
      limitBytes,
      actualBytes,
    });
  }
}

export class UnknownEndpointError extends ArchiverError {
  constructor(endpoint: string, known: string[]) {
    super('UNKNOWN_ENDPOINT', `Endpoint "${endpoint}" is not configured`, { endpoint, known });
  }
}

export class JobNotFoundError extends ArchiverError {
  constructor(jobId: string) {
    super('JOB_NOT_FOUND', `No job ${jobId}`, { jobId });
  }
}

/** The same Idempotency-Key was used before with a different request body. */
export class IdempotencyConflictError extends ArchiverError {
  constructor(key: string, jobId: string) {
    super('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different request', {
      idempotencyKey: key,
      jobId,
    });
  }
}

/** A webhook whose token does not authenticate its job id. Deliberately vague to the caller. */
export class WebhookAuthError extends ArchiverError {
  constructor(reason: string) {
    super('WEBHOOK_UNAUTHORIZED', 'Webhook token is not valid for this job', { reason });
  }
}

/** The request is valid but the job's state forbids it (cancel an archived job...). */
export class JobStateConflictError extends ArchiverError {
  constructor(jobId: string, state: string, action: string) {
    super('JOB_STATE_CONFLICT', `Cannot ${action} job ${jobId} in state ${state}`, { jobId, state, action });
  }
}

/** A conditional write lost a race; callers reload and decide again. */
export class ConcurrentUpdateError extends ArchiverError {
  /** The record as the failed write found it, when the store answered with it (so no read has to follow). */
  current?: unknown;
  constructor(jobId: string, what: string, current?: unknown) {
    super('CONCURRENT_UPDATE', `Job ${jobId} changed while ${what}`, { jobId });
    // Not enumerable: the record is for the caller, never for a log line or an answer.
    if (current !== undefined) Object.defineProperty(this, 'current', { value: current, enumerable: false });
  }
}

// ---- upstream failures -------------------------------------------------------------------------------

/** The submit queue is not configured, or did not take a message (nothing was sent upstream). */
export class QueueUnavailableError extends ArchiverError {
  constructor(message: string) {
    super('QUEUE_UNAVAILABLE', message);
  }
}

/** Base of upstream failures; `certainlyNotAccepted` says a non-idempotent call may be retried safely. */
export class UpstreamError extends ArchiverError {
  constructor(
    code: string,
    message: string,
    readonly operation: string,
    readonly certainlyNotAccepted: boolean,
    details?: Record<string, unknown>,
  ) {
    super(code, message, { operation, ...details });
  }
}

export class UpstreamRateLimitedError extends UpstreamError {
  constructor(
    operation: string,
    readonly retryAfterMs: number,
  ) {
    super('UPSTREAM_RATE_LIMITED', `Upstream rate limit hit on ${operation}`, operation, true, {
      retryAfterMs,
    });
  }
}

export class UpstreamNotFoundError extends UpstreamError {
  constructor(operation: string, upstreamId?: string) {
    super('UPSTREAM_NOT_FOUND', `Upstream has no such job (${operation})`, operation, true, { upstreamId });
  }
}

export class UpstreamUnauthorizedError extends UpstreamError {
  constructor(operation: string, status: number) {
    super('UPSTREAM_UNAUTHORIZED', `Upstream refused our API key (${status})`, operation, true, { status });
  }
}

/** 4xx other than 401/403/404/429: the upstream read the request and refused it. */
export class UpstreamRefusedError extends UpstreamError {
  constructor(operation: string, status: number, body: string) {
    super('UPSTREAM_REFUSED', `Upstream refused ${operation} (${status})`, operation, true, {
      status,
      body: body.slice(0, 2000),
    });
  }
}

export class UpstreamServerError extends UpstreamError {
  constructor(operation: string, status: number) {
    // A 5xx on /run may come after the job was queued: not certainly refused.
    super('UPSTREAM_SERVER_ERROR', `Upstream answered ${status} on ${operation}`, operation, false, {
      status,
    });
  }
}

/** No answer in time: the request may or may not have been acted on. */
export class UpstreamTimeoutError extends UpstreamError {
  constructor(operation: string, timeoutMs: number) {
    super(
      'UPSTREAM_TIMEOUT',
      `Upstream did not answer ${operation} within ${timeoutMs} ms`,
      operation,
      false,
      {
        timeoutMs,
      },
    );
  }
}

/** Connection refused or DNS failure before any byte was sent: certainly not accepted. */
export class UpstreamUnreachableError extends UpstreamError {
  constructor(operation: string, cause: string) {
    super('UPSTREAM_UNREACHABLE', `Upstream unreachable on ${operation}: ${cause}`, operation, true, {
      cause,
    });
  }
}

export class UpstreamInvalidResponseError extends UpstreamError {
  constructor(operation: string, problem: string) {
    super(
      'UPSTREAM_INVALID_RESPONSE',
      `Upstream answered ${operation} with an unexpected body: ${problem}`,
      operation,
      false,
    );
  }
}

/** For conditional writes whose loss is fine (someone else moved the job on): swallow only that. */
export function ignoreConflict(err: unknown): undefined {
  if (err instanceof ConcurrentUpdateError) return undefined;
  throw err;
}
