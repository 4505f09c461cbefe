// Dispatches an HTTP API v2 event to its route, and turns every failure into a JSON error response.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { inInvocation } from '../composition/invocation.ts';
import type { ServiceDeps } from '../core/services.ts';
import { errorResponse, type HttpResult, json } from './responses.ts';
import { matchPath, parseRoutePath } from './route-match.ts';

/** A route gets the event (pathParameters filled) and this invocation's view of the runtime. */
export type RouteHandler = (event: APIGatewayProxyEventV2, runtime: ServiceDeps) => Promise<HttpResult>;

/** A job id in the path is named on every log line of the request; anything else there is not echoed. */
const LOGGABLE_JOB_ID = /^[0-9A-Za-z]{1,64}$/;

/**
 * Serves the given routes inside one invocation (composition/invocation.ts): every log line names the
 * Lambda and API request ids and the path's job id, and the metrics are flushed once at the end.
 * HTTP API sets routeKey; a Function URL or `$default` route sends `$default`, so the path is matched here
 * as well.
 */
export async function dispatch(
  event: APIGatewayProxyEventV2,
  routes: Record<string, RouteHandler>,
  runtime: () => ServiceDeps,
  context?: Partial<Pick<Context, 'awsRequestId' | 'functionName'>>,
): Promise<HttpResult> {
  const requestId = event.requestContext.requestId;
  const found = findRoute(event, routes);
  const jobId = found?.event.pathParameters?.jobId;
  // A runtime that cannot be built (a configuration error) fails the invocation: Lambda logs it whole.
  const deps = runtime();
  const fields = { requestId, ...(jobId && LOGGABLE_JOB_ID.test(jobId) && { jobId }) };
  return inInvocation(deps, context, fields, async (rt) => {
    try {
      if (found) return await found.route(found.event, rt);
      const { method } = event.requestContext.http;
      return json(404, {
        error: { code: 'ROUTE_NOT_FOUND', message: `No route for ${method} ${event.rawPath}`, details: {} },
      });
    } catch (err) {
      return errorResponse(err, rt.logger, requestId);
    }
  });
}

function findRoute(
  event: APIGatewayProxyEventV2,
  routes: Record<string, RouteHandler>,
): { route: RouteHandler; event: APIGatewayProxyEventV2 } | undefined {
  const direct = routes[event.routeKey];
  if (direct) return { route: direct, event };
  for (const [key, route] of Object.entries(routes)) {
    const [method, path = ''] = key.split(' ');
    if (method !== event.requestContext.http.method) continue;
    // Parameters stay percent-encoded, as API Gateway passes them: the handlers decode them (requests.ts).
    const params = matchPath(parseRoutePath(path), event.rawPath, (segment) => segment);
    if (params) return { route, event: { ...event, pathParameters: { ...event.pathParameters, ...params } } };
  }
  return undefined;
}
