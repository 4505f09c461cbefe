// Dispatches an HTTP API v2 event to its route, and turns every failure into a JSON error response.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Logger } from '../core/ports.ts';
import { errorResponse, type HttpResult, json } from './responses.ts';

export type RouteHandler = (event: APIGatewayProxyEventV2) => Promise<HttpResult>;

/** Matches `POST /jobs/{jobId}/cancel` against a method and a path, filling pathParameters. */
function matchRoute(routeKey: string, method: string, path: string): Record<string, string> | undefined {
  const [routeMethod, routePath = ''] = routeKey.split(' ');
  if (routeMethod !== method) return undefined;
  const want = routePath.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const actual = got[i] ?? '';
    if (part.startsWith('{') && part.endsWith('}')) {
      if (!actual) return undefined;
      params[part.slice(1, -1)] = actual;
    } else if (part !== actual) return undefined;
  }
  return params;
}

/**
 * Serves the given routes. HTTP API sets routeKey; a Function URL or `$default` route sends `$default`,
 * so the path is matched here as well.
 */
export async function dispatch(
  event: APIGatewayProxyEventV2,
  routes: Record<string, RouteHandler>,
  logger: () => Logger,
): Promise<HttpResult> {
  try {
    const direct = routes[event.routeKey];
    if (direct) return await direct(event);
    const method = event.requestContext.http.method;
    const path = event.rawPath;
    for (const [key, route] of Object.entries(routes)) {
      const params = matchRoute(key, method, path);
      if (params) return await route({ ...event, pathParameters: { ...event.pathParameters, ...params } });
    }
    return json(404, {
      error: { code: 'ROUTE_NOT_FOUND', message: `No route for ${method} ${path}`, details: {} },
    });
  } catch (err) {
    return errorResponse(err, logger(), event.requestContext.requestId);
  }
}
