// Builds the API Gateway HTTP API payload format 2.0 event a Lambda integration would receive.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { IamAuthorizer } from './principal.ts';

export interface EventSettings {
  routeKey: string;
  pathParameters: Record<string, string>;
  requestId: string;
  accountId: string;
  apiId: string;
  stage: string;
  now: number;
  /** `requestContext.authorizer` of an IAM-authorized route; absent on public routes, as in AWS. */
  authorizer?: { iam: IamAuthorizer };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** requestContext.time as API Gateway writes it: '12/Mar/2020:19:03:58 +0000'. */
export function apiGatewayTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}

/** An id shaped like API Gateway's ('JKJaXmPLvHcESHA='). */
export function apiGatewayRequestId(): string {
  return randomBytes(10).toString('base64');
}

const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

/**
 * HTTP APIs hand the body over as text only for text/* and JSON/XML/JavaScript content types (measured
 * against AWS: a missing content type and even form-urlencoded arrive base64). Text that is not valid UTF-8
 * is base64 too, so no byte is ever lost in a string conversion.
 */
export function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body: string; isBase64Encoded: boolean } {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const textual = mediaType.startsWith('text/') || TEXT_TYPES.has(mediaType);
  if (textual) {
    try {
      return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), isBase64Encoded: false };
    } catch {
      // fall through: not UTF-8 after all
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/** Headers lower-cased, duplicates joined with commas (format 2.0 has no multiValueHeaders). */
function collectHeaders(req: IncomingMessage): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values === undefined) continue;
    if (name === 'cookie') {
      // Cookies move to their own field, one entry per cookie.
      for (const value of values)
        cookies.push(
          ...value
            .split(';')
            .map((c) => c.trim())
            .filter(Boolean),
        );
      continue;
    }
    headers[name] = values.join(',');
  }
  return { headers, cookies };
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    params[key] = key in params ? `${params[key]},${value}` : value;
  }
  return params;
}

function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function buildHttpEvent(
  req: IncomingMessage,
  body: Buffer | undefined,
  settings: EventSettings,
): APIGatewayProxyEventV2 {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : (url.slice(queryAt + 1).split('#')[0] ?? '');
  const { headers, cookies } = collectHeaders(req);
  const sourceIp = sourceIpOf(req);
  const localPort = req.socket.localPort;
  // What API Gateway adds in front of the integration.
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${sourceIp}`
    : sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  if (localPort !== undefined) headers['x-forwarded-port'] ??= String(localPort);
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(settings.now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const domainName = headers.host ?? `127.0.0.1:${localPort ?? 80}`;
  const queryStringParameters = queryParameters(rawQueryString);
  const encoded =
    body !== undefined && body.length > 0 ? encodeBody(body, headers['content-type']) : undefined;

  return {
    version: '2.0',
    routeKey: settings.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(queryStringParameters !== undefined && { queryStringParameters }),
    requestContext: {
      accountId: settings.accountId,
      apiId: settings.apiId,
      ...(settings.authorizer !== undefined && { authorizer: settings.authorizer }),
      domainName,
      domainPrefix: domainName.split('.')[0]?.split(':')[0] ?? domainName,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: settings.requestId,
      routeKey: settings.routeKey,
      stage: settings.stage,
      time: apiGatewayTime(settings.now),
      timeEpoch: settings.now,
    },
    ...(Object.keys(settings.pathParameters).length > 0 && { pathParameters: settings.pathParameters }),
    ...(encoded !== undefined
      ? { body: encoded.body, isBase64Encoded: encoded.isBase64Encoded }
      : { isBase64Encoded: false }),
  };
}
