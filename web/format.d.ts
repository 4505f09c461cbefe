// Types of web/format.js for the unit tests (the page itself is plain JavaScript).

export interface ListFilters {
  state?: string;
  endpoint?: string;
  tag?: string;
  from?: string;
  to?: string;
}

export type Route = { view: 'job'; jobId: string } | { view: 'list'; filters: ListFilters };

export interface SizedJob {
  inputBytes?: number;
  resultBytes?: number;
  artifacts?: Array<{ bytes?: number }>;
  upstreamStatus?: string;
}

export const ARCHIVE_STATES: readonly string[];
export const UPSTREAM_OUTCOMES: readonly string[];
export const FILTER_KEYS: readonly (keyof ListFilters)[];
export function parseRoute(hash: string | undefined): Route;
export function listHash(filters: ListFilters): string;
export function jobHash(jobId: string): string;
export function toIsoTime(value: string, name: string): string;
export function listRequest(
  filters: ListFilters,
  cursor?: string,
  limit?: number,
): { path: string; matches: (job: SizedJob) => boolean };
export function formatTime(iso: string | undefined, ms?: boolean): string;
export function formatDuration(ms: number | undefined): string;
export function formatBytes(bytes: number | undefined): string;
export function jobSize(job: SizedJob): { total: number; artifacts: number; detail: string };
export function tagList(metadata: Record<string, string> | undefined): string[];
export function shorten(text: string, max: number): string;
export function prettyJson(value: unknown, maxString?: number): string;
export function eventDetail(detail: unknown, max?: number): string;
export function eventName(event: { type?: string; count?: number; firstAt?: string } | undefined): string;
export function shortPrincipal(arn: string | undefined): string;
export function safeHttpUrl(url: unknown, base?: string): string | undefined;
export function fileName(key: string | undefined): string;
export function tone(status: string | undefined): 'ok' | 'bad' | 'warn' | 'busy' | 'muted';
