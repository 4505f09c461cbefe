// Reading HTTP API v2 events: body bytes (base64 included), JSON under a size cap, headers, path params.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { PayloadTooLargeError, ValidationError } from '../core/errors.ts';

export function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

function issuesOf(error: z.ZodError) {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Validates with zod, turning failures into a 400 that lists each problem. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`Invalid ${what}`, { issues: issuesOf(parsed.error) });
  return parsed.data;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body: size cap, content type, strict UTF-8, JSON, then the schema. */
export function jsonBody<T extends z.ZodType>(
  event: APIGatewayProxyEventV2,
  schema: T,
  maxBytes: number,
): z.output<T> {
  const bytes = bodyBytes(event);
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes, bytes.length);
  const type = header(event, 'content-type');
  if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new ValidationError(
      `Content-Type must be application/json, not ${type.slice(0, 100)}`,
      undefined,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  }
  if (bytes.length === 0)
    throw new ValidationError('Request body is empty; send a JSON object', undefined, 'INVALID_JSON');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ValidationError('Request body is not valid UTF-8', undefined, 'INVALID_JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(
      'Request body is not valid JSON',
      { problem: (err as Error).message.slice(0, 200) },
      'INVALID_JSON',
    );
  }
  return validate(schema, value, 'request body');
}

export function pathParameter<T extends z.ZodType>(
  event: APIGatewayProxyEventV2,
  name: string,
  schema: T,
): z.output<T> {
  const raw = event.pathParameters?.[name];
  if (raw === undefined) throw new ValidationError(`Missing path parameter ${name}`);
  return validate(schema, decodeURIComponent(raw), `path parameter ${name}`);
}
