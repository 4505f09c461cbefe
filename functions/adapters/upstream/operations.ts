// The upstream operations: HTTP method, limiter class, and whether a repeat is harmless.

/** Path segment of each operation, as the upstream names it. */
export type UpstreamOperation =
  | 'run'
  | 'runsync'
  | 'status'
  | 'status-sync'
  | 'stream'
  | 'cancel'
  | 'retry'
  | 'purge-queue'
  | 'health';

/** Limiter buckets; status, status-sync and stream share one upstream limit, so they share one bucket. */
export type OperationClass = 'run' | 'runsync' | 'status' | 'cancel' | 'other';

export interface OperationSpec {
  method: 'GET' | 'POST';
  limiterClass: OperationClass;
  /**
   * True when sending it twice does no harm, so timeouts and 5xx may be retried. False for operations that
   * start or requeue work: those are repeated only when the upstream certainly did not accept the first try.
   */
  idempotent: boolean;
}

export const OPERATIONS: Readonly<Record<UpstreamOperation, OperationSpec>> = {
  run: { method: 'POST', limiterClass: 'run', idempotent: false },
  runsync: { method: 'POST', limiterClass: 'runsync', idempotent: false },
  status: { method: 'GET', limiterClass: 'status', idempotent: true },
  'status-sync': { method: 'GET', limiterClass: 'status', idempotent: true },
  stream: { method: 'GET', limiterClass: 'status', idempotent: true },
  // Cancelling twice leaves the job cancelled once.
  cancel: { method: 'POST', limiterClass: 'cancel', idempotent: true },
  // A second /retry after the first was accepted could requeue a job that failed again in between.
  retry: { method: 'POST', limiterClass: 'other', idempotent: false },
  'purge-queue': { method: 'POST', limiterClass: 'other', idempotent: false },
  health: { method: 'GET', limiterClass: 'other', idempotent: true },
};

/** Builds `{base}/{operation}[/{id}][?query]`, keeping any path or query the configured base already has. */
export function buildOperationUrl(
  base: URL,
  operation: UpstreamOperation,
  id?: string,
  query?: Record<string, number | undefined>,
): URL {
  const url = new URL(base.href);
  const segments = [operation, ...(id === undefined ? [] : [encodeURIComponent(id)])];
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${segments.join('/')}`;
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url;
}
