// Turns failed HTTP exchanges into CLI errors: the API's own error body, gateway messages, and network failures.
import { ApiError, CliError, EXIT, type ExitCode, InterruptedError } from '../errors.ts';
import type { AuthMode } from './auth.ts';

export interface ErrorContext {
  method: string;
  /** Path without the query, for messages. */
  path: string;
  auth: AuthMode;
}

interface ApiErrorBody {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** `{error:{code,message,details}}`, the shape of every error the archiver's handlers answer. */
function archiverError(body: unknown): ApiErrorBody | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const error = body.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const message = 'message' in error && typeof error.message === 'string' ? error.message : undefined;
  if (code === undefined || message === undefined) return undefined;
  const details =
    'details' in error && typeof error.details === 'object' && error.details !== null
      ? (error.details as Record<string, unknown>)
      : {};
  return { code, message, details };
}

/** API Gateway's (and the local gateway's) own answers: `{"message":"Forbidden"}`. */
function gatewayMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string')
    return body.message;
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Extra lines worth showing: each schema issue, the known endpoints, when to retry. */
function detailHints(error: ApiErrorBody, headers: Headers): string[] {
  const hints: string[] = [];
  const issues = error.details.issues;
  if (Array.isArray(issues)) {
    for (const issue of issues) {
      if (typeof issue !== 'object' || issue === null) continue;
      const path = 'path' in issue && typeof issue.path === 'string' && issue.path ? `${issue.path}: ` : '';
      const message = 'message' in issue && typeof issue.message === 'string' ? issue.message : '';
      hints.push(`${path}${message}`);
    }
  }
  const known = error.details.known;
  if (Array.isArray(known)) hints.push(`configured endpoints: ${known.join(', ')}`);
  const retryAfter = headers.get('retry-after');
  if (retryAfter) hints.push(`retry after ${retryAfter} s`);
  return hints;
}

function authHints(auth: AuthMode): string[] {
  switch (auth.kind) {
    case 'none':
      return ['the API wants credentials: set ARCHIVER_TOKEN (local) or use --sigv4 with AWS credentials'];
    case 'bearer':
      return ['the API refused the bearer token: check ARCHIVER_TOKEN / --token'];
    case 'sigv4':
      return [
        `the API refused the SigV4-signed request (region ${auth.region}); the caller needs execute-api:Invoke on the /jobs routes (the stack's ClientPolicyArn)`,
      ];
  }
}

/** Maps a non-2xx answer to an ApiError with the exit code the documentation promises. */
export function errorFromResponse(
  status: number,
  statusText: string,
  text: string,
  headers: Headers,
  context: ErrorContext,
): ApiError {
  const body = parseJson(text);
  const api = archiverError(body);
  if (api) {
    const exitCode: ExitCode =
      status === 404 && api.code !== 'ROUTE_NOT_FOUND'
        ? EXIT.notFound
        : status === 401 || status === 403
          ? EXIT.auth
          : EXIT.api;
    if (api.code === 'ROUTE_NOT_FOUND') return missingRoute(status, context);
    return new ApiError(
      `${api.code}: ${api.message}`,
      exitCode,
      status,
      api.code,
      api.details,
      detailHints(api, headers),
      headers.get('retry-after') ?? undefined,
    );
  }
  const message = gatewayMessage(body) ?? (text.trim().slice(0, 200) || statusText || 'no body');
  if (status === 401 || status === 403)
    return new ApiError(`${status} ${message}`, EXIT.auth, status, undefined, {}, authHints(context.auth));
  if (status === 404) return missingRoute(status, context);
  return new ApiError(
    `API answered ${status}: ${message}`,
    EXIT.api,
    status,
    undefined,
    {},
    [],
    headers.get('retry-after') ?? undefined,
  );
}

/** A 404 that is not about a job: the server has no such route (wrong --api, or older than this CLI). */
function missingRoute(status: number, context: ErrorContext): ApiError {
  return new ApiError(
    `the API has no route ${context.method} ${context.path}`,
    EXIT.api,
    status,
    'ROUTE_NOT_FOUND',
    {},
    ['check --api / ARCHIVER_API_URL; if it is right, the server is older than this CLI'],
  );
}

/** undici wraps the socket error: `TypeError('fetch failed', {cause})`; the cause says what really happened. */
function causeOf(err: unknown): { code?: string; message?: string } {
  const cause = err instanceof Error ? err.cause : undefined;
  if (typeof cause !== 'object' || cause === null) return {};
  return {
    ...('code' in cause && typeof cause.code === 'string' && { code: cause.code }),
    ...('message' in cause &&
      typeof cause.message === 'string' &&
      cause.message && { message: cause.message }),
  };
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

/**
 * A fetch that never got an answer: Ctrl-C, our own timeout, or the network. `what` names the target
 * ("the archiver API at http://…" or "the archive download").
 */
export function errorFromFetchFailure(
  err: unknown,
  what: string,
  timeoutMs: number,
  hints: string[],
): CliError {
  if (err instanceof CliError) return err;
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError')
    return new CliError(`no answer from ${what} within ${timeoutMs / 1000} s`, EXIT.unreachable, hints);
  if (name === 'AbortError') return new InterruptedError();
  const cause = causeOf(err);
  const why =
    (cause.code && NETWORK_WORDS[cause.code]) ??
    cause.code ??
    cause.message ??
    (err instanceof Error ? err.message : String(err));
  return new CliError(`cannot reach ${what}: ${why}`, EXIT.unreachable, hints);
}
