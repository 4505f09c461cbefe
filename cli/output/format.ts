// Small value formatters shared by the summaries, tables and progress lines.
/** 1024-based, one decimal from KB up: "43 B", "1.9 KB", "6.8 MB" (as the README's demo table). */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
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

/** "250 ms", "4.2 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)} min ${totalS % 60} s`;
  const totalMin = Math.round(totalS / 60);
  return `${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
}

/** ISO time to the second, UTC, readable: "2026-11-29 19:11:02Z". */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `k=v, k=v` in key order. */
export function formatTags(metadata: Record<string, string> | undefined): string {
  if (!metadata) return '';
  return Object.keys(metadata)
    .sort()
    .map((k) => `${k}=${metadata[k]}`)
    .join(', ');
}

/** The state with the upstream's status beside it when it adds something: "ARCHIVED (COMPLETED)". */
export function formatState(job: { state: string; upstreamStatus?: string | undefined }): string {
  return job.upstreamStatus ? `${job.state} (${job.upstreamStatus})` : job.state;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** "1 job", "3 jobs". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * An IAM principal's ARN for a table column: `assumed-role/Admin/alice@123456789012` (its resource and
 * account). `get` and JSON show the whole ARN.
 */
export function shortPrincipal(arn: string | undefined): string {
  if (!arn) return '';
  const parts = arn.split(':');
  const resource = parts.slice(5).join(':');
  return parts.length >= 6 && resource ? `${resource}${parts[4] ? `@${parts[4]}` : ''}` : arn;
}
