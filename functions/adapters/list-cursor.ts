// Opaque listing cursors: base64url JSON bound to the query's filters and bounds, re-validated on the way back in.
import * as z from 'zod/mini';
import '../schemas/english-messages.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import { ValidationError } from '../core/errors.ts';
import type { ListQuery } from '../core/ports.ts';
import { LIST_DEFAULT_RANGE_MS, LIST_MAX_RANGE_MS } from '../schemas/api.ts';

// Built on the first cursor read (z.lazy), not at every cold start: most requests carry none.
const cursorSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    v: z.literal(2),
    /** Which filters and given bounds the cursor belongs to: a cursor is only valid for the same query. */
    q: z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/)),
    /**
     * The listing's time range, fixed by its first page. A range left to its default ends "now", which is
     * later on every request: the cursor keeps the first one, so its pages neither shift nor get refused.
     */
    f: z.iso.datetime(),
    t: z.iso.datetime(),
    /** The UTC day (partition) to resume in. */
    d: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)),
    /** Resume strictly below this job id. */
    k: z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/)),
  }),
);
export type ListCursor = z.infer<typeof cursorSchema>;

/**
 * A digest of the filters and given bounds: short whatever they hold (a 2 KB principal ARN, a 256-character
 * tag), so the cursor stays well inside the API's 2,048-character limit.
 */
export function queryFingerprint(q: ListQuery): string {
  const filters = canonicalJson({
    state: q.state,
    upstreamStatus: q.upstreamStatus,
    endpoint: q.endpoint,
    tag: q.tag,
    principal: q.principal,
    from: q.requested?.from,
    to: q.requested?.to,
  });
  return createHash('sha256').update(filters).digest('base64url').slice(0, 22);
}

export function encodeCursor(q: ListQuery, day: string, jobId: string): string {
  const cursor: ListCursor = { v: 2, q: queryFingerprint(q), f: q.from, t: q.to, d: day, k: jobId };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

const notIssued = () => new ValidationError('cursor is not one this API issued', undefined, 'INVALID_CURSOR');
const isRealDay = (d: string) => {
  const ms = Date.parse(`${d}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === d;
};

/**
 * The cursor's range is one this query could have asked for itself: bounds the client gave are kept as
 * given, a defaulted start is no earlier than the default length before the end, a defaulted end is not
 * later than now, nothing before 1970 and never more than the 400-day limit. So a cursor, forged or
 * not, can only continue a listing, never widen it or make the store query what the API would refuse.
 */
function rangeHolds(q: ListQuery, c: ListCursor): boolean {
  const f = Date.parse(c.f);
  const t = Date.parse(c.t);
  if (!(f >= 0 && f <= t && t - f <= LIST_MAX_RANGE_MS)) return false;
  if (!isRealDay(c.d) || c.d < c.f.slice(0, 10) || c.d > c.t.slice(0, 10)) return false;
  if (!q.requested) return true;
  const { from, to } = q.requested;
  if (from !== undefined ? f !== Date.parse(from) : f < t - LIST_DEFAULT_RANGE_MS) return false;
  if (to !== undefined ? t !== Date.parse(to) : t > Date.parse(q.to)) return false;
  return true;
}

export function decodeCursor(q: ListQuery, text: string): ListCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw notIssued();
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw notIssued();
  if (result.data.q !== queryFingerprint(q)) {
    throw new ValidationError(
      'cursor belongs to a different query; repeat the same filters',
      undefined,
      'INVALID_CURSOR',
    );
  }
  if (!rangeHolds(q, result.data)) throw notIssued();
  return result.data;
}
