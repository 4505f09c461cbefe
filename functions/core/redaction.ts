// The one redaction: callback tokens and secret-named fields, removed before anything is logged, answered or stored.

/** Fields whose value is a secret whatever it looks like (headers, config echoes, upstream s3Config). */
const SECRET_FIELD = /token|secret|authorization|api.?key|password|credential|access.?id/i;

/**
 * A `/` in any of the forms a callback URL takes on its way through encoders: plain, JSON-escaped (`\/`, one
 * or more backslashes, as PHP and some proxies write it, doubled when re-escaped), `\u002f`, percent-encoded
 * (`%2F`, `%252F` when encoded twice, `%5C%2F` for an escaped one) and HTML entities.
 */
const SLASH = String.raw`(?:/|\\+/|\\+u002f|(?:%(?:25)*5c)*%(?:25)*2f|&#x0*2f;|&#0*47;)`;

/**
 * `{slash}webhooks{slash}{jobId}{slash}{token}`: everything up to the token is kept, so a redacted line still
 * says which job's callback it was; the token (base64url, of any length: a clipped one leaks as much) goes.
 * The job id part takes URL-safe characters only (job ids are ULIDs, perhaps percent-encoded), so an
 * already redacted `[redacted]` is never taken for one and redacting twice changes nothing.
 */
const CALLBACK_TOKEN = new RegExp(
  `(${SLASH}webhooks${SLASH}[A-Za-z0-9._~%+-]{1,200}?${SLASH})[A-Za-z0-9_-]+`,
  'gi',
);

export const REDACTED = '[redacted]';

/** Deepest nesting walked; anything deeper is replaced whole rather than passed through unread. */
const MAX_DEPTH = 32;

/** Text with every callback token, in any of its encodings, replaced by `[redacted]`. */
export function redactText(text: string): string {
  // Cheap test first: nearly every string has no callback URL in it.
  if (!/webhooks/i.test(text)) return text;
  return text.replace(CALLBACK_TOKEN, `$1${REDACTED}`);
}

/**
 * A copy of a JSON-like value with callback tokens redacted from every string (keys included) and the values
 * of secret-named fields replaced. Used by the logger, error answers and everything persisted.
 * @example redactValue({ webhook: 'https://x/webhooks/01J.../abc...' }) // { webhook: 'https://x/webhooks/01J.../[redacted]' }
 */
export function redactValue<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  if (value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      redactText(k),
      SECRET_FIELD.test(k) && v !== null && v !== undefined ? REDACTED : walk(v, depth + 1),
    ]),
  );
}
