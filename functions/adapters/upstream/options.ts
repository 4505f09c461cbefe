// Options, defaults and metric events of the upstream client.
import type { RetrySettings } from './backoff.ts';
import type { LimiterSettings } from './limiter.ts';
import type { OperationClass, UpstreamOperation } from './operations.ts';

/** The subset of global fetch the client uses, so tests can hand in a scripted one. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** What the client reports for metrics; never carries the API key or bodies. */
export type UpstreamEvent =
  | {
      type: 'response';
      endpoint: string;
      operation: UpstreamOperation;
      attempt: number;
      status: number;
      durationMs: number;
    }
  | {
      type: 'failure';
      endpoint: string;
      operation: UpstreamOperation;
      attempt: number;
      code: string;
      durationMs: number;
    }
  | {
      type: 'rate-limited';
      endpoint: string;
      operation: UpstreamOperation;
      attempt: number;
      retryAfterMs: number;
    }
  | {
      type: 'retry';
      endpoint: string;
      operation: UpstreamOperation;
      attempt: number;
      delayMs: number;
      code: string;
    }
  | { type: 'limiter-wait'; endpoint: string; limiterClass: OperationClass; waitedMs: number };

export interface UpstreamClientOptions {
  /** Endpoint name → base URL up to the endpoint id; the client appends `/{operation}[/{id}]`. */
  endpoints: Record<string, string>;
  /** Resolves an endpoint's API key on each call (cache inside if the source is slow); never logged. */
  apiKey: (endpoint: string) => Promise<string>;
  /** Per-attempt timeout; /runsync and /status-sync add their wait on top. Default 10 000. */
  timeoutMs?: number;
  /** Per endpoint and operation class; missing classes get DEFAULT_LIMITS. */
  limits?: Partial<Record<OperationClass, LimiterSettings>>;
  /** Default { maxAttempts: 4, baseBackoffMs: 200, maxBackoffMs: 10 000 }. */
  retry?: Partial<RetrySettings>;
  fetch?: FetchLike;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Uniform in [0, 1); injectable so jitter is predictable in tests. */
  random?: () => number;
  /** Metrics hook; exceptions thrown by it are swallowed so metrics never break a call. */
  onEvent?: (event: UpstreamEvent) => void;
}

/** Below the documented limits (status 2000/400, run 1000/200, runsync 2000/400, cancel 100/20, purge 2). */
export const DEFAULT_LIMITS: Readonly<Record<OperationClass, LimiterSettings>> = {
  status: { ratePer10s: 1900, concurrency: 300 },
  run: { ratePer10s: 800, concurrency: 150 },
  runsync: { ratePer10s: 1600, concurrency: 300 },
  cancel: { ratePer10s: 80, concurrency: 15 },
  other: { ratePer10s: 8, concurrency: 2 },
};

export const DEFAULT_RETRY: Readonly<RetrySettings> = {
  maxAttempts: 4,
  baseBackoffMs: 200,
  maxBackoffMs: 10_000,
};
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The upstream's own wait when `?wait=` is not sent; the timeout must outlast it. */
export const DEFAULT_SYNC_WAIT_MS = 90_000;
/** The range the upstream accepts for `?wait=`. */
export const SYNC_WAIT_RANGE_MS = { min: 1000, max: 300_000 } as const;
