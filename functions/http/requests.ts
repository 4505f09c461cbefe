// Reading HTTP API v2 events: body bytes (base64 included), JSON under a size cap, headers, path params.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { PayloadTooLargeError, ValidationError } from '../core/errors.ts';
import { principalSchema } from '../schemas/api.ts';

export function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * At most 20 issues, each clipped: zod names unknown keys and record keys in its messages and paths, and a
 * body with a megabyte key or 100,000 stray keys must not come back as a megabyte error (or one over
 * Lambda's 6 MB response limit, which would turn a 400 into a 502).
 */
function issuesOf(error: z.core.$ZodError) {
  return error.issues.slice(0, 20).map((i) => ({
    path: clip(i.path.map(String).join('.'), 200),
    message: clip(i.message, 300),
  }));
}

/** Validates with zod, turning failures into a 400 that lists each problem. */
export function validate<T extends z.ZodMiniType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`Invalid ${what}`, { issues: issuesOf(parsed.error) });
  return parsed.data;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Deepest nesting a body may have. JSON.parse copes with any depth, but JSON.stringify and every recursive
 * walk after it (canonical JSON, input.json) overflow the stack a few thousand levels down; no real job
 * input comes near this.
 */
export const MAX_JSON_DEPTH = 128;

/** Nesting depth of a parsed JSON value, counted without recursion and given up past `limit`. */
function depthOver(value: unknown, limit: number): boolean {
  const isContainer = (v: unknown): v is object => v !== null && typeof v === 'object';
  if (!isContainer(value)) return false;
  // Only containers are stacked, so a huge flat array costs no extra memory.
  const stack: Array<[object, number]> = [[value, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (depth > limit) return true;
    for (const child of Object.values(node)) if (isContainer(child)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Parses a JSON body: size cap, content type, strict UTF-8, JSON, then the schema. */
export function jsonBody<T extends z.ZodMiniType>(
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
  if (depthOver(value, MAX_JSON_DEPTH)) {
    throw new ValidationError(`Request body is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      maxDepth: MAX_JSON_DEPTH,
    });
  }
  return validate(schema, value, 'request body');
}

export function pathParameter<T extends z.ZodMiniType>(
  event: APIGatewayProxyEventV2,
  name: string,
  schema: T,
): z.output<T> {
  const raw = event.pathParameters?.[name];
  if (raw === undefined) throw new ValidationError(`Missing path parameter ${name}`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // A malformed escape (`%E0%A4%A`) is the client's mistake, not a URIError for the 500 handler.
    throw new ValidationError(`Invalid path parameter ${name}`, {
      issues: [{ path: name, message: 'malformed percent-encoding' }],
    });
  }
  return validate(schema, decoded, `path parameter ${name}`);
}

/**
 * Who made the call: the IAM principal API Gateway verified (`requestContext.authorizer.iam.userArn`),
 * which the local gateway fills in the same shape from its token. Undefined on unsigned routes (the webhook)
 * or when the slot holds no ARN.
 */
export function principalOf(event: APIGatewayProxyEventV2): string | undefined {
  const context = event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } };
  const arn = context.authorizer?.iam?.userArn;
  // IAM ARNs are at most 2048 printable characters; anything else in the slot is not one API Gateway wrote.
  return principalSchema.safeParse(arn).success ? (arn as string) : undefined;
}
