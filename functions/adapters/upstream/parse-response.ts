// Reading upstream bodies: strict UTF-8 JSON, then the tolerant zod schemas.
import type * as z from 'zod/mini';
import { UpstreamInvalidResponseError } from '../../core/errors.ts';

/** UTF-8 JSON or UpstreamInvalidResponseError. */
export function decodeJson(operation: string, raw: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new UpstreamInvalidResponseError(operation, 'body is not UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UpstreamInvalidResponseError(operation, `not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

/** Schema-checked value (unknown fields kept by the loose schemas) or UpstreamInvalidResponseError. */
export function validate<S extends z.ZodMiniType>(operation: string, schema: S, json: unknown): z.output<S> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw new UpstreamInvalidResponseError(operation, problems.slice(0, 5).join('; '));
}

/**
 * Some docs show `/stream` answering a bare array of chunks instead of `{status, stream}`. Wrap it with the
 * unknown state "UNKNOWN", which every caller treats as not final, rather than refuse a documented shape.
 */
export function normaliseStream(json: unknown): unknown {
  return Array.isArray(json) ? { status: 'UNKNOWN', stream: json } : json;
}
