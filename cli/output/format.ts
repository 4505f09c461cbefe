// Small value formatters of the summaries, tables and progress lines; sizes, durations, tags and principals are the
// archive page's own (web/format.js, plain browser JavaScript), so the CLI and the page never drift apart.
import { formatBytes, formatDuration, shorten, shortPrincipal, tagList } from '../../web/format.js';

export { formatBytes, formatDuration, shorten as truncate, shortPrincipal };

/**
 * ISO time to the second, UTC, readable: "2026-11-29 19:11:02Z". Unlike the page (the viewer's time zone), the CLI
 * prints UTC: its output is pasted into tickets and compared across machines.
 */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `k=v, k=v` in key order. */
export function formatTags(metadata: Record<string, string> | undefined): string {
  return tagList(metadata).join(', ');
}

/** The state with the upstream's status beside it when it adds something: "ARCHIVED (COMPLETED)". */
export function formatState(job: { state: string; upstreamStatus?: string | undefined }): string {
  return job.upstreamStatus ? `${job.state} (${job.upstreamStatus})` : job.state;
}

/** "1 job", "3 jobs". */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
