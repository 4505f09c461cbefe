// How failed requests become messages and exit codes.
import { describe, expect, it } from 'vitest';
import { ApiError, EXIT, InterruptedError } from '../../../cli/errors.ts';
import { errorFromFetchFailure, errorFromResponse } from '../../../cli/http/errors.ts';

const context = { method: 'GET', path: '/jobs/X', auth: { kind: 'none' } as const };
const body = (code: string, message: string, details: Record<string, unknown> = {}) =>
  JSON.stringify({ error: { code, message, details } });

describe('errorFromResponse', () => {
  it('maps the API error body to its code, message and exit code', () => {
    const notFound = errorFromResponse(
      404,
      'Not Found',
      body('JOB_NOT_FOUND', 'No job X'),
      new Headers(),
      context,
    );
    expect(notFound).toBeInstanceOf(ApiError);
    expect(notFound).toMatchObject({
      exitCode: EXIT.notFound,
      code: 'JOB_NOT_FOUND',
      message: 'JOB_NOT_FOUND: No job X',
    });
    const upstream = errorFromResponse(404, '', body('UPSTREAM_NOT_FOUND', 'gone'), new Headers(), context);
    expect(upstream.exitCode).toBe(EXIT.notFound);
    const conflict = errorFromResponse(409, '', body('JOB_STATE_CONFLICT', 'no'), new Headers(), context);
    expect(conflict.exitCode).toBe(EXIT.api);
    const upstream502 = errorFromResponse(
      502,
      '',
      body('UPSTREAM_SERVER_ERROR', 'x'),
      new Headers(),
      context,
    );
    expect(upstream502.exitCode).toBe(EXIT.api);
  });

  it('lists schema issues, known endpoints and Retry-After as hints', () => {
    const invalid = errorFromResponse(
      400,
      '',
      body('INVALID_REQUEST', 'Invalid request body', {
        issues: [{ path: 'policy.ttl', message: 'Too small' }],
      }),
      new Headers(),
      context,
    );
    expect(invalid.hints).toEqual(['policy.ttl: Too small']);
    const endpoint = errorFromResponse(
      400,
      '',
      body('UNKNOWN_ENDPOINT', 'no', { known: ['a', 'b'] }),
      new Headers(),
      context,
    );
    expect(endpoint.hints).toEqual(['configured endpoints: a, b']);
    const limited = errorFromResponse(
      429,
      '',
      body('UPSTREAM_RATE_LIMITED', 'slow down'),
      new Headers({ 'retry-after': '3' }),
      context,
    );
    expect(limited.hints).toEqual(['retry after 3 s']);
  });

  it('treats gateway 401/403 as auth failures and a bare 404 as a missing route', () => {
    const forbidden = errorFromResponse(403, 'Forbidden', '{"message":"Forbidden"}', new Headers(), {
      ...context,
      auth: { kind: 'sigv4', region: 'eu-west-1', service: 'execute-api' },
    });
    expect(forbidden.exitCode).toBe(EXIT.auth);
    expect(forbidden.message).toBe('403 Forbidden');
    expect(forbidden.hints[0]).toContain('execute-api:Invoke');
    const unauthorized = errorFromResponse(401, '', '{"message":"Unauthorized"}', new Headers(), context);
    expect(unauthorized.hints[0]).toContain('ARCHIVER_TOKEN');
    const route = errorFromResponse(404, 'Not Found', '{"message":"Not Found"}', new Headers(), {
      ...context,
      method: 'POST',
      path: '/jobs/X/reconcile',
    });
    expect(route).toMatchObject({
      exitCode: EXIT.api,
      message: 'the API has no route POST /jobs/X/reconcile',
    });
    const html = errorFromResponse(500, 'Internal Server Error', '<html>oops</html>', new Headers(), context);
    expect(html).toMatchObject({ exitCode: EXIT.api, message: 'API answered 500: <html>oops</html>' });
  });
});

describe('errorFromFetchFailure', () => {
  const fetchFailed = (code: string) =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });

  it('names network failures and exits 4', () => {
    const refused = errorFromFetchFailure(fetchFailed('ECONNREFUSED'), 'the API', 60_000, ['start it']);
    expect(refused).toMatchObject({
      exitCode: EXIT.unreachable,
      message: 'cannot reach the API: connection refused',
    });
    expect(refused.hints).toEqual(['start it']);
    expect(errorFromFetchFailure(fetchFailed('ENOTFOUND'), 'the API', 1, []).message).toContain(
      'host not found',
    );
    const timeout = new DOMException('timed out', 'TimeoutError');
    expect(errorFromFetchFailure(timeout, 'the API', 60_000, [])).toMatchObject({
      exitCode: EXIT.unreachable,
      message: 'no answer from the API within 60 s',
    });
  });

  it('turns Ctrl-C into an interruption', () => {
    expect(errorFromFetchFailure(new DOMException('aborted', 'AbortError'), 'the API', 1, [])).toBeInstanceOf(
      InterruptedError,
    );
  });
});
