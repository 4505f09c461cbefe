// HTTP API v2 events built from the recorded fixtures, varied per test.
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const base = (name: string) =>
  JSON.parse(readFileSync(`test/fixtures/events/${name}.json`, 'utf8')) as APIGatewayProxyEventV2;

export interface EventOptions {
  method?: string;
  routeKey: string;
  path: string;
  body?: string | Buffer;
  base64?: boolean;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  pathParameters?: Record<string, string>;
}

export function httpEvent(o: EventOptions): APIGatewayProxyEventV2 {
  const event = base('post-jobs');
  const method = o.method ?? o.routeKey.split(' ')[0] ?? 'GET';
  const body =
    o.body === undefined ? undefined : o.base64 ? Buffer.from(o.body).toString('base64') : o.body.toString();
  return {
    ...event,
    routeKey: o.routeKey,
    rawPath: o.path,
    rawQueryString: new URLSearchParams(o.query ?? {}).toString(),
    headers: { ...event.headers, ...o.headers },
    ...(o.query && { queryStringParameters: o.query }),
    ...(o.pathParameters && { pathParameters: o.pathParameters }),
    requestContext: {
      ...event.requestContext,
      routeKey: o.routeKey,
      http: { ...event.requestContext.http, method, path: o.path },
    },
    ...(body === undefined ? { body: undefined } : { body }),
    isBase64Encoded: Boolean(o.base64),
  };
}

export function parseResult(result: APIGatewayProxyStructuredResultV2 | string | object) {
  const r = result as APIGatewayProxyStructuredResultV2;
  return {
    status: r.statusCode,
    headers: r.headers ?? {},
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert on them
    json: r.body ? (JSON.parse(r.body) as Record<string, any>) : undefined,
  };
}

export { base as fixtureEvent };
