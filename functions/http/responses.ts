// HTTP API v2 responses: JSON bodies, and the one place errors become status codes.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConfigError } from '../config.ts';
import {
  ArchiverError,
  IdempotencyConflictError,
  JobNotFoundError,
  JobStateConflictError,
  PayloadTooLargeError,
  QueueUnavailableError,
  UnknownEndpointError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamRefusedError,
  UpstreamTimeoutError,
  UpstreamUnauthorizedError,
  ValidationError,
  WebhookAuthError,
} from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import { redactText } from '../core/redaction.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2;

/** A JSON answer. No answer needs a callback token, so none carries one, whatever put it in the body. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: redactText(JSON.stringify(body)),
  };
}

/**
 * The one answer to every refused webhook (malformed path, wrong token, expired token, unknown job): which
 * check failed is logged, never told, so a caller probing tokens learns nothing from the answer.
 */
const WEBHOOK_REFUSAL = {
  code: 'WEBHOOK_UNAUTHORIZED',
  message: 'Webhook token is not valid for this job',
  details: {},
};

/** Status code of each error family; anything unlisted is a 500 that never leaks its message. */
export function statusOf(err: ArchiverError): number {
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof ValidationError || err instanceof UnknownEndpointError)
    return err.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400;
  if (err instanceof WebhookAuthError) return 401;
  if (err instanceof JobNotFoundError || err instanceof UpstreamNotFoundError) return 404;
  if (err instanceof JobStateConflictError) return 409;
  if (err instanceof IdempotencyConflictError) return 422;
  if (err instanceof UpstreamRefusedError) return 422;
  if (err instanceof UpstreamRateLimitedError) return 429;
  if (err instanceof UpstreamTimeoutError) return 504;
  if (err instanceof QueueUnavailableError) return 503;
  if (err instanceof UpstreamUnauthorizedError) return 502;
  return 502;
}

/** `{error:{code,message,details}}` with the right status; unexpected errors are logged, not echoed. */
export function errorResponse(err: unknown, logger: Logger, requestId?: string): HttpResult {
  if (err instanceof ArchiverError) {
    const status = statusOf(err);
    const headers: Record<string, string> = {};
    if (err instanceof UpstreamRateLimitedError)
      headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    (status >= 500 ? logger.error : logger.info).call(logger, 'request failed', {
      code: err.code,
      status,
      requestId,
      ...(err instanceof WebhookAuthError && { reason: err.details?.reason }),
    });
    if (err instanceof WebhookAuthError) return json(401, { error: WEBHOOK_REFUSAL });
    return json(
      status,
      { error: { code: err.code, message: err.message, details: err.details ?? {} } },
      headers,
    );
  }
  logger.error(err instanceof ConfigError ? 'configuration error' : 'unexpected error', {
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
    requestId,
  });
  return json(500, { error: { code: 'INTERNAL', message: 'Internal error', details: { requestId } } });
}
