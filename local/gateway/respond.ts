// Writes gateway answers: the integration's result (format 2.0 rules) or API Gateway's own JSON messages.
import type { ServerResponse } from 'node:http';

export interface NormalizedResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a (JSON round-tripped) handler result as API Gateway does for format 2.0: an object with statusCode
 * is a structured response; anything else is a 200 application/json body. Undefined means "invalid" (500).
 */
export function normalizeResult(result: unknown): NormalizedResult | undefined {
  if (!isRecord(result) || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(body),
    };
  }
  const { statusCode, headers = {}, cookies = [], body, isBase64Encoded = false } = result;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    return undefined;
  }
  if (
    !isRecord(headers) ||
    !Array.isArray(cookies) ||
    (body !== undefined && body !== null && typeof body !== 'string')
  ) {
    return undefined;
  }
  const outHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      return undefined;
    outHeaders[name.toLowerCase()] = String(value);
  }
  const text = typeof body === 'string' ? body : '';
  return {
    statusCode,
    headers: outHeaders,
    cookies: cookies.filter((c): c is string => typeof c === 'string'),
    body: isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text),
  };
}

export function writeResult(res: ServerResponse, result: NormalizedResult, headOnly: boolean): void {
  for (const [name, value] of Object.entries(result.headers)) {
    // Framing is ours to decide: the body is already complete.
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
    res.setHeader(name, value);
  }
  if (result.cookies.length > 0) res.setHeader('set-cookie', result.cookies);
  res.setHeader('content-length', result.body.length);
  res.writeHead(result.statusCode);
  res.end(headOnly ? undefined : result.body);
}

/** API Gateway's own answers: `{"message":"..."}` as application/json. */
export function writeMessage(
  res: ServerResponse,
  statusCode: number,
  message: string,
  extraHeaders: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  res.writeHead(statusCode, {
    ...extraHeaders,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** The archiver's own error shape, for what the local gateway refuses before any handler runs. */
export function writeApiError(
  res: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
  details: Record<string, unknown>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message, details } });
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
