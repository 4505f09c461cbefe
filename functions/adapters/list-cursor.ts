// Opaque listing cursors: base64url JSON bound to the query's filters, validated on the way back in.
// A namespace import lets the bundler drop zod's unused parts (its locales alone are 258 KB).
import * as z from 'zod';
import { canonicalJson } from '../core/canonical-json.ts';
import { ValidationError } from '../core/errors.ts';
import type { ListQuery } from '../core/ports.ts';

const cursorSchema = z.strictObject({
  v: z.literal(2),
  /** Which filters the cursor belongs to: a cursor is only valid for the same query. */
  q: z.string().max(512),
  /**
   * The listing's time range, fixed by its first page. A range left to its default ends "now", which is
   * later on every request: the cursor keeps the first one, so its pages neither shift nor get refused.
   */
  f: z.iso.datetime(),
  t: z.iso.datetime(),
  /** The UTC day (partition) to resume in. */
  d: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Resume strictly below this job id. */
  k: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
});
export type ListCursor = z.infer<typeof cursorSchema>;

export function queryFingerprint(q: ListQuery): string {
  return canonicalJson({
    state: q.state,
    upstreamStatus: q.upstreamStatus,
    endpoint: q.endpoint,
    tag: q.tag,
  });
}

export function encodeCursor(q: ListQuery, day: string, jobId: string): string {
  const cursor: ListCursor = { v: 2, q: queryFingerprint(q), f: q.from, t: q.to, d: day, k: jobId };
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
