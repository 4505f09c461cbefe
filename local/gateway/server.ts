// Local HTTP API: serves a route table by turning requests into format 2.0 events for Lambda-style handlers.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { discardRest, readBody } from './body.ts';
import { createLambdaContext } from './context.ts';
import { apiGatewayRequestId, buildHttpEvent } from './event.ts';
import { hostAllowed, isJsonMediaType, originAllowed } from './guards.ts';
import { invokeWithTimeout } from './invoke.ts';
import { localIamAuthorizer } from './principal.ts';
import { normalizeResult, writeApiError, writeMessage, writeResult } from './respond.ts';
import { compileRoutes, type GatewayRoute, matchRoute } from './routes.ts';

/** HTTP API payload quota. */
export const HTTP_API_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda synchronous invocation request and response payload quota (6 MB = 6,291,456 bytes). */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** HTTP API integration timeout (maximum and default). */
export const HTTP_API_INTEGRATION_TIMEOUT_MS = 30_000;

export interface GatewayOptions {
  routes: readonly GatewayRoute[];
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Serves requests no route matches (static pages); without it they get API Gateway's 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  /** When set, routes with `auth: true` require `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /**
   * Host names (without port) requests may name besides the loopback ones (localhost, 127.0.0.1, ::1):
   * a page on another name that resolves to 127.0.0.1 (DNS rebinding) is refused. `['*']` allows any.
   */
  allowedHosts?: readonly string[];
  maxBodyBytes?: number;
  maxPayloadBytes?: number;
  integrationTimeoutMs?: number;
  /** Default '$default'. */
  stage?: string;
  /** Default 'local'. */
  apiId?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** Default 'us-east-1'. */
  region?: string;
  /** Called for handler errors, timeouts and invalid results, which the client only sees as 5xx. */
  onError?: (error: unknown, info: { routeKey: string; requestId: string }) => void;
  /** How long stop() lets in-flight requests finish before cutting connections. Default 10 s. */
  stopGraceMs?: number;
}

export interface Gateway {
  url: string;
  port: number;
  server: Server;
  stop(): Promise<void>;
}

const defaultOnError = (error: unknown, info: { routeKey: string; requestId: string }) =>
  console.error(`[gateway] ${info.routeKey} (${info.requestId}) failed:`, error);

/** Constant-time comparison of a presented token with the configured one, whatever their lengths. */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const {
    port = 0,
    host = '127.0.0.1',
    fallback,
    authToken,
    maxBodyBytes = HTTP_API_MAX_BODY_BYTES,
    maxPayloadBytes = LAMBDA_SYNC_PAYLOAD_BYTES,
    integrationTimeoutMs = HTTP_API_INTEGRATION_TIMEOUT_MS,
    stage = '$default',
    apiId = 'local',
    accountId = '000000000000',
    region = 'us-east-1',
    onError = defaultOnError,
    stopGraceMs = 10_000,
    allowedHosts = [],
  } = options;
  // Every IAM-authorized route carries the caller, as API Gateway's IAM authorization does.
  const authorizer = localIamAuthorizer(authToken);
  const routes = compileRoutes(options.routes);
  const inflight = new Set<Promise<void>>();

  const tooLarge = (req: IncomingMessage, res: ServerResponse) => {
    writeMessage(res, 413, 'Request Entity Too Large');
    // Drain (bounded) rather than reset, so the client reads the 413 instead of an ECONNRESET.
    discardRest(req, 2 * maxBodyBytes, 10_000);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = apiGatewayRequestId();
    res.setHeader('apigw-requestid', requestId);
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    if (!hostAllowed(req.headers.host, allowedHosts)) {
      writeApiError(
        res,
        403,
        'HOST_NOT_ALLOWED',
        `this local API answers only to loopback names, not "${req.headers.host ?? ''}"`,
        {
          hint: 'open it as http://127.0.0.1:PORT, or add the name to ARCHIVER_ALLOWED_HOSTS',
        },
      );
      discardRest(req, maxBodyBytes, 10_000);
      return;
    }
    const match = matchRoute(routes, method, rawPath);
    if (match === undefined) {
      if (fallback !== undefined) await fallback(req, res);
      else writeApiError(res, 404, 'ROUTE_NOT_FOUND', `No route for ${method} ${rawPath}`, {});
      return;
    }
    const { route, routeKey, functionName } = match.compiled;

    // Client routes refuse what a web page of another origin can send without a preflight (CSRF): a
    // cross-origin Origin, and bodies that are not JSON (forms, text/plain, no content type at all).
    if (route.auth === true) {
      if (!originAllowed(req.headers.origin, allowedHosts)) {
        writeApiError(
          res,
          403,
          'ORIGIN_NOT_ALLOWED',
          `requests from ${req.headers.origin} are not accepted`,
          {},
        );
        discardRest(req, maxBodyBytes, 10_000);
        return;
      }
      const contentType = req.headers['content-type'];
      const hasBody =
        Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
      const reads = method === 'GET' || method === 'HEAD';
      if (!reads && (hasBody || contentType !== undefined) && !isJsonMediaType(contentType)) {
        writeApiError(
          res,
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'the body must be JSON: send content-type: application/json',
          {
            contentType: contentType ?? null,
          },
        );
        discardRest(req, maxBodyBytes, 10_000);
        return;
      }
    }

    if (route.auth === true && authToken !== undefined) {
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (bearer?.[1] === undefined) {
        writeMessage(res, 401, 'Unauthorized');
        return;
      }
      if (!tokenMatches(bearer[1], authToken)) {
        writeMessage(res, 403, 'Forbidden');
        return;
      }
    }

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      tooLarge(req, res);
      return;
    }
    const read = await readBody(req, maxBodyBytes).catch(() => undefined);
    // The client went away mid-body: nobody is left to answer, and it is not a gateway failure.
    if (read === undefined) return;
    if (!read.ok) {
      tooLarge(req, res);
      return;
    }

    const now = Date.now();
    const event = buildHttpEvent(req, read.body, {
      routeKey,
      pathParameters: match.pathParameters,
      requestId,
      accountId,
      apiId,
      stage,
      now,
      ...(route.auth === true && { authorizer }),
    });
    // Lambda receives the event as JSON: measure it against the invoke quota and hand over a fresh parse.
    const serializedEvent = JSON.stringify(event);
    if (Buffer.byteLength(serializedEvent) > maxPayloadBytes) {
      writeMessage(res, 413, 'Request Entity Too Large');
      return;
    }

    const lambdaTimeoutMs = route.timeoutMs ?? integrationTimeoutMs;
    const context = createLambdaContext({
      functionName,
      timeoutMs: lambdaTimeoutMs,
      region,
      accountId,
      startedAt: now,
      ...(route.memoryLimitMB !== undefined && { memoryLimitMB: route.memoryLimitMB }),
    });
    const info = { routeKey, requestId };
    const outcome = await invokeWithTimeout(
      () => route.handler(JSON.parse(serializedEvent) as APIGatewayProxyEventV2, context),
      Math.min(lambdaTimeoutMs, integrationTimeoutMs),
    );
    if (outcome.status === 'timeout') {
      // Whichever clock ran out first decides: a function timeout is a failed invocation (500), the
      // integration timeout is API Gateway giving up (503).
      if (lambdaTimeoutMs < integrationTimeoutMs) {
        onError(new Error(`Task timed out after ${(lambdaTimeoutMs / 1000).toFixed(2)} seconds`), info);
        writeMessage(res, 500, 'Internal Server Error');
      } else {
        onError(new Error(`integration timed out after ${integrationTimeoutMs} ms`), info);
        writeMessage(res, 503, 'Service Unavailable');
      }
      return;
    }
    if (outcome.status === 'error') {
      onError(outcome.error, info);
      writeMessage(res, 500, 'Internal Server Error');
      return;
    }

    // The result crosses Lambda as JSON too, under the same 6 MB quota.
    let serializedResult: string | undefined;
    try {
      serializedResult = JSON.stringify(outcome.value);
    } catch (error) {
      onError(error, info);
      writeMessage(res, 500, 'Internal Server Error');
      return;
    }
    if (serializedResult !== undefined && Buffer.byteLength(serializedResult) > maxPayloadBytes) {
      onError(new Error(`response payload over ${maxPayloadBytes} bytes`), info);
      writeMessage(res, 500, 'Internal Server Error');
      return;
    }
    const result = normalizeResult(serializedResult === undefined ? null : JSON.parse(serializedResult));
    if (result === undefined) {
      onError(new Error(`invalid handler result: ${serializedResult?.slice(0, 200)}`), info);
      writeMessage(res, 500, 'Internal Server Error');
      return;
    }
    writeResult(res, result, method === 'HEAD');
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const work = handle(req, res)
      .catch((error: unknown) => {
        onError(error, {
          routeKey: `${req.method} ${req.url}`,
          requestId: String(res.getHeader('apigw-requestid')),
        });
        if (!res.writableEnded) writeMessage(res, 500, 'Internal Server Error');
      })
      .finally(() => inflight.delete(work));
    inflight.add(work);
  };

  const server = createServer(onRequest);
  // Expect: 100-continue with an oversized declared body: refuse before the client sends it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      writeMessage(res, 413, 'Request Entity Too Large', { connection: 'close' });
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('gateway is not listening on TCP');
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inflight]),
        new Promise((resolve) => {
          grace = setTimeout(resolve, stopGraceMs);
        }),
      ]);
      clearTimeout(grace);
      server.closeAllConnections();
      await closed;
    })();
    return stopping;
  };

  return { url: `http://${urlHost}:${address.port}`, port: address.port, server, stop };
}
