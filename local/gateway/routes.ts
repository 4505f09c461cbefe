// Route table: HTTP API route keys ('POST /jobs/{jobId}/cancel', '{proxy+}') matched most-specific first.
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { comparePaths, matchPath, parseRoutePath, type Segment } from '../../functions/http/route-match.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'ANY';

/** A Lambda handler behind an HTTP API route (payload format 2.0). */
export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface GatewayRoute {
  method: HttpMethod;
  /** '/jobs/{jobId}'; a last segment '{name+}' is greedy. */
  path: string;
  handler: HttpHandler;
  /** Require the gateway's bearer token (when one is configured). */
  auth?: boolean;
  /** The function's timeout (context.getRemainingTimeInMillis); default: the integration timeout. */
  timeoutMs?: number;
  /** Default: derived from the route key, e.g. 'POST-jobs-jobId-cancel'. */
  functionName?: string;
  memoryLimitMB?: number;
}

export interface CompiledRoute {
  route: GatewayRoute;
  routeKey: string;
  functionName: string;
  segments: Segment[];
}

export interface RouteMatch {
  compiled: CompiledRoute;
  pathParameters: Record<string, string>;
}

export function compileRoutes(routes: readonly GatewayRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes.map((route) => {
    const routeKey = `${route.method} ${route.path}`;
    if (seen.has(routeKey)) throw new Error(`duplicate route ${routeKey}`);
    seen.add(routeKey);
    const segments = parseRoutePath(route.path);
    const functionName =
      route.functionName ??
      routeKey
        .replace(/[^A-Za-z0-9_-]+/g, '-')
        .replace(/-+$/, '')
        .slice(0, 64);
    return { route, routeKey, functionName, segments };
  });
}

/** Negative when a is more specific: by path (functions/http/route-match.ts), then exact method beats ANY. */
function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const byPath = comparePaths(a.segments, b.segments);
  if (byPath !== 0) return byPath;
  return (a.route.method === 'ANY' ? 1 : 0) - (b.route.method === 'ANY' ? 1 : 0);
}

/** The most specific route for method + raw path (undecoded, without query), as API Gateway picks it. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  rawPath: string,
): RouteMatch | undefined {
  let best: RouteMatch | undefined;
  for (const compiled of routes) {
    if (compiled.route.method !== method && compiled.route.method !== 'ANY') continue;
    const pathParameters = matchPath(compiled.segments, rawPath);
    if (pathParameters === undefined) continue;
    if (best === undefined || compareSpecificity(compiled, best.compiled) < 0)
      best = { compiled, pathParameters };
  }
  return best;
}
