// Route table: HTTP API route keys ('POST /jobs/{jobId}/cancel', '{proxy+}') matched most-specific first.
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

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

type Segment =
  | { kind: 'static'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

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

function parseSegment(text: string, isLast: boolean, path: string): Segment {
  const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(text);
  if (param === null) {
    if (text.includes('{') || text.includes('}')) throw new Error(`bad path segment '${text}' in ${path}`);
    return { kind: 'static', value: text };
  }
  const name = param[1] ?? '';
  if (param[2] === '+') {
    if (!isLast) throw new Error(`greedy {${name}+} must be the last segment in ${path}`);
    return { kind: 'greedy', name };
  }
  return { kind: 'param', name };
}

export function compileRoutes(routes: readonly GatewayRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes.map((route) => {
    if (!route.path.startsWith('/')) throw new Error(`route path must start with '/': ${route.path}`);
    const routeKey = `${route.method} ${route.path}`;
    if (seen.has(routeKey)) throw new Error(`duplicate route ${routeKey}`);
    seen.add(routeKey);
    const parts = route.path.split('/').slice(1);
    const segments = parts.map((part, i) => parseSegment(part, i === parts.length - 1, route.path));
    const functionName =
      route.functionName ??
      routeKey
        .replace(/[^A-Za-z0-9_-]+/g, '-')
        .replace(/-+$/, '')
        .slice(0, 64);
    return { route, routeKey, functionName, segments };
  });
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchSegments(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const part = parts[i];
    if (segment === undefined || part === undefined) return undefined;
    if (segment.kind === 'greedy') {
      const rest = parts.slice(i);
      if (rest.join('') === '') return undefined;
      params[segment.name] = rest.map(decode).join('/');
      return params;
    }
    if (segment.kind === 'static') {
      if (decode(part) !== segment.value) return undefined;
    } else {
      // A path variable never matches an empty segment ('/jobs/' is not '/jobs/{jobId}').
      if (part === '') return undefined;
      params[segment.name] = decode(part);
    }
  }
  return parts.length === segments.length ? params : undefined;
}

const rank = { static: 0, param: 1, greedy: 2 } as const;

/** Negative when a is more specific: static beats {param} beats {greedy+} at the first difference, then exact method beats ANY. */
function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const diff = rank[a.segments[i]?.kind ?? 'greedy'] - rank[b.segments[i]?.kind ?? 'greedy'];
    if (diff !== 0) return diff;
  }
  return (a.route.method === 'ANY' ? 1 : 0) - (b.route.method === 'ANY' ? 1 : 0);
}

/** The most specific route for method + raw path (undecoded, without query), as API Gateway picks it. */
export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  rawPath: string,
): RouteMatch | undefined {
  const parts = rawPath.split('/').slice(1);
  let best: RouteMatch | undefined;
  for (const compiled of routes) {
    if (compiled.route.method !== method && compiled.route.method !== 'ANY') continue;
    const pathParameters = matchSegments(compiled.segments, parts);
    if (pathParameters === undefined) continue;
    if (best === undefined || compareSpecificity(compiled, best.compiled) < 0)
      best = { compiled, pathParameters };
  }
  return best;
}
