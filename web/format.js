// Pure helpers of the archive browser: routes, list queries, sizes, times and JSON for display (no DOM); the CLI
// formats sizes, durations, tags and principals with these too (cli/output/format.ts), so both read the same.

/** The archiver's own job states (the API's `state` filter). */
export const ARCHIVE_STATES = ['SUBMITTING', 'PENDING', 'ARCHIVED', 'EXPIRED', 'REJECTED'];
/** Final upstream statuses of archived jobs; filtered here, on top of `state=ARCHIVED`. */
export const UPSTREAM_OUTCOMES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];
/** Filters kept in the address (`#/?state=FAILED&tag=team=vision`). */
export const FILTER_KEYS = ['state', 'endpoint', 'tag', 'from', 'to'];

/** `#/jobs/{jobId}` is one job; anything else is the list with the filters of its query. */
export function parseRoute(hash) {
  const path = String(hash ?? '').replace(/^#/, '');
  const job = /^\/jobs\/([^/?]+)$/.exec(path);
  if (job) {
    try {
      return { view: 'job', jobId: decodeURIComponent(job[1]) };
    } catch {
      return { view: 'job', jobId: job[1] };
    }
  }
  const at = path.indexOf('?');
  const params = new URLSearchParams(at === -1 ? '' : path.slice(at + 1));
  const filters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filters[key] = value;
  }
  return { view: 'list', filters };
}

/** The address of the list with these filters. */
export function listHash(filters) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  const query = params.toString();
  return query ? `#/?${query}` : '#/';
}

/** The address of one job. */
export function jobHash(jobId) {
  return `#/jobs/${encodeURIComponent(jobId)}`;
}

/** A `datetime-local` value (local time) or an ISO time as the API's ISO-8601 UTC; throws when unreadable. */
export function toIsoTime(value, name) {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new Error(`"${name}" is not a date and time: ${value}`);
  return time.toISOString();
}

/**
 * The `GET /jobs` path for filters and a cursor, and the test each returned job must pass: an upstream
 * outcome (FAILED, ...) asks the API for ARCHIVED jobs and keeps those with that upstream status.
 */
export function listRequest(filters, cursor, limit = 50) {
  const params = new URLSearchParams();
  let outcome;
  if (filters.state) {
    if (UPSTREAM_OUTCOMES.includes(filters.state)) {
      params.set('state', 'ARCHIVED');
      outcome = filters.state;
    } else {
      params.set('state', filters.state);
    }
  }
  if (filters.endpoint) params.set('endpoint', filters.endpoint);
  if (filters.tag) params.set('tag', filters.tag);
  if (filters.from) params.set('from', toIsoTime(filters.from, 'from'));
  if (filters.to) params.set('to', toIsoTime(filters.to, 'to'));
  params.set('limit', String(limit));
  if (cursor) params.set('cursor', cursor);
  return {
    path: `/jobs?${params}`,
    matches: (job) => outcome === undefined || job.upstreamStatus === outcome,
  };
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `2026-11-29 19:11:02` in the viewer's time zone (with `.367` when `ms`); the input as is when unreadable. */
export function formatTime(iso, ms = false) {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso);
  const date = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  return `${date} ${time}${ms ? `.${pad(t.getMilliseconds(), 3)}` : ''}`;
}

/**
 * `250 ms`, `1.25 s`, `3 min 4 s`, `2 h 5 min` (the CLI prints the same: cli/output/format.ts). Whole seconds,
 * then whole minutes, are rounded first, so 119.7 s reads `2 min 0 s`, never `1 min 60 s`.
 */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${Number((abs / 1000).toFixed(2))} s`;
  const totalS = Math.round(abs / 1000);
  if (totalS < 3600) return `${sign}${Math.floor(totalS / 60)} min ${totalS % 60} s`;
  const totalMin = Math.round(totalS / 60);
  return `${sign}${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
}

/** `412 B`, `1.9 KB`, `6.8 MB` (binary units, as the demo prints them). */
export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Everything a job keeps in the archive: total bytes and a breakdown for a tooltip. */
export function jobSize(job) {
  const artifacts = job.artifacts ?? [];
  const artifactBytes = artifacts.reduce((sum, a) => sum + (a.bytes ?? 0), 0);
  const total = (job.inputBytes ?? 0) + (job.resultBytes ?? 0) + artifactBytes;
  const parts = [];
  if (job.inputBytes !== undefined) parts.push(`input ${formatBytes(job.inputBytes)}`);
  if (job.resultBytes !== undefined) parts.push(`result ${formatBytes(job.resultBytes)}`);
  if (artifacts.length > 0) {
    parts.push(
      `${artifacts.length} artifact${artifacts.length === 1 ? '' : 's'} ${formatBytes(artifactBytes)}`,
    );
  }
  return { total, artifacts: artifacts.length, detail: parts.join(', ') };
}

/** Metadata as sorted `key=value` strings. */
export function tagList(metadata) {
  return Object.entries(metadata ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
}

/** Text cut to `max` characters with an ellipsis. */
export function shorten(text, max) {
  const s = String(text);
  return s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s;
}

/** Base64 or a data: URI: bytes nobody reads as text. */
const BINARY_TEXT = /^(data:[\w.+-]+\/[\w.+-]+;base64,)?[A-Za-z0-9+/_-]+=*$/;

/**
 * JSON indented by two spaces, with long strings cut and how much was left out: base64 and data URIs over
 * 200 characters (images are shown as images), any string over `maxString`. The download has every byte.
 */
export function prettyJson(value, maxString = 20_000) {
  return JSON.stringify(
    value,
    (_key, v) => {
      if (typeof v !== 'string') return v;
      const keep = v.length > 200 && BINARY_TEXT.test(v) ? 120 : Math.min(v.length, maxString);
      return keep < v.length ? `${v.slice(0, keep)}… [${v.length - keep} more characters]` : v;
    },
    2,
  );
}

/** An audit event's detail on one line: `attempt: 1, status: "COMPLETED"`. */
export function eventDetail(detail, max = 400) {
  if (!detail || typeof detail !== 'object') return '';
  const text = Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return shorten(text, max);
}

/** An event's name in the timeline; a tally of repeats reads `webhook.duplicate ×37000 since <first>`. */
export function eventName(event) {
  if (typeof event?.count !== 'number') return event?.type ?? '';
  const since = event.firstAt ? ` since ${formatTime(event.firstAt, true)}` : '';
  return `${event.type} ×${event.count}${since}`;
}

/** An IAM principal's ARN in short: `assumed-role/Admin/alice@123456789012` (its resource and account). */
export function shortPrincipal(arn) {
  if (typeof arn !== 'string' || arn === '') return '';
  const parts = arn.split(':');
  const resource = parts.slice(5).join(':');
  return parts.length >= 6 && resource ? `${resource}${parts[4] ? `@${parts[4]}` : ''}` : arn;
}

/** The URL when it is http(s) (absolute, or resolved against `base`), else undefined: never `javascript:`. */
export function safeHttpUrl(url, base) {
  if (typeof url !== 'string' || url === '') return undefined;
  try {
    const parsed = new URL(url, base);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** The last segment of an archive key: `jobs/2026/11/29/ID/artifacts/0-image.png` → `0-image.png`. */
export function fileName(key) {
  const s = String(key ?? '');
  return s.slice(s.lastIndexOf('/') + 1);
}

/** Colour family of a state or upstream status badge. */
export function tone(status) {
  switch (status) {
    case 'ARCHIVED':
    case 'COMPLETED':
      return 'ok';
    case 'FAILED':
    case 'EXPIRED':
    case 'REJECTED':
      return 'bad';
    case 'CANCELLED':
    case 'TIMED_OUT':
      return 'warn';
    case 'SUBMITTING':
    case 'PENDING':
    case 'IN_QUEUE':
    case 'IN_PROGRESS':
      return 'busy';
    default:
      return 'muted';
  }
}
