// Opaque listing cursors: base64url JSON bound to the query's filters, validated on the way back in.
import { z } from 'zod';
import { canonicalJson } from '../core/canonical-json.ts';
import { ValidationError } from '../core/errors.ts';
import type { ListQuery } from '../core/ports.ts';

const cursorSchema = z.strictObject({
  v: z.literal(1),
  /** Which filters the cursor belongs to: a cursor is only valid for the same query. */
  q: z.string().max(512),
  /** The UTC day (partition) to resume in. */
  d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Resume strictly below this job id. */
  k: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
});
export type ListCursor = z.infer<typeof cursorSchema>;

export function queryFingerprint(q: ListQuery): string {
  return canonicalJson({ from: q.from, to: q.to, state: q.state, endpoint: q.endpoint, tag: q.tag });
}

export function encodeCursor(q: ListQuery, day: string, jobId: string): string {
  const cursor: ListCursor = { v: 1, q: queryFingerprint(q), d: day, k: jobId };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(q: ListQuery, text: string): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('cursor is not one this API issued', undefined, 'INVALID_CURSOR');
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success)
    throw new ValidationError('cursor is not one this API issued', undefined, 'INVALID_CURSOR');
  if (result.data.q !== queryFingerprint(q)) {
    throw new ValidationError(
      'cursor belongs to a different query; repeat the same filters',
      undefined,
      'INVALID_CURSOR',
    );
  }
  return result.data;
}
