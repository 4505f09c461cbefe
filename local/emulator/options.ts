// Emulator options with the upstream's documented defaults, and the fully resolved settings the modules share.
import type { FaultOptions, OperationClass } from './faults.ts';
import type { JobHandler } from './handlers.ts';

/** One rate limit: `limit` request starts per `windowMs`, at most `concurrent` in flight (Infinity = none). */
export interface RateLimit {
  limit: number;
  windowMs?: number;
  concurrent?: number;
}

/** Worker pool of one endpoint. */
export interface EndpointOptions {
  /** Jobs run at once (0 = nothing ever starts, jobs stay queued). */
  workers?: number;
  /** The endpoint's WorkersMax, used only by the queue-size 429 rule; defaults to `workers`. */
  workersMax?: number;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Bearer key every API call must carry. Default "emulator-api-key". */
  apiKey?: string;
  /** Also accept `Authorization: <key>` without "Bearer" (older RunPod SDKs send that). Default true. */
  allowBareApiKey?: boolean;
  /** Seeds output generation and (unless faults.seed) the fault dice. Default 1. */
  seed?: number;
  /** /run results kept after completion. Default 30 min. */
  retentionMs?: number;
  /** /runsync results kept after completion. Default 60 s. */
  runsyncRetentionMs?: number;
  /** `policy.ttl` when the request sets none. Default 24 h. */
  defaultTtlMs?: number;
  /** `policy.executionTimeout` when the request sets none. Default 10 min. */
  defaultExecutionTimeoutMs?: number;
  /** Run time of a job whose input names no `durationMs`. Default 250 ms. */
  jobDurationMs?: number;
  /** Time between a free worker and the job turning IN_PROGRESS (adds to delayTime). Default 10 ms. */
  startDelayMs?: number;
  /** Multiplies every duration taken from an input (`durationMs`, `intervalMs`, `slow`'s default). Default 1. */
  timeScale?: number;
  /** Workers per endpoint. Default 3. */
  workers?: number;
  /** WorkersMax per endpoint for the queue-size rule. Default = workers. */
  workersMax?: number;
  /** Per endpoint id overrides of workers / workersMax. */
  endpoints?: Record<string, EndpointOptions>;
  /** Queue-size 429 when queued > queueLimitMin AND queued > workersMax × queueLimitPerWorker. Defaults 50, 500. */
  queueLimitMin?: number;
  queueLimitPerWorker?: number;
  /** Overrides of the documented per-class limits (window defaults to 10 s). */
  rateLimits?: Partial<Record<OperationClass, RateLimit>>;
  /** Multiplies every limit and concurrency (rounded up, at least 1) so tests can reach them. Default 1. */
  rateLimitScale?: number;
  /** False turns all rate and concurrency limits off. Default true. */
  rateLimitsEnabled?: boolean;
  /** Default 10 MB (413 above). */
  maxRunBodyBytes?: number;
  /** Default 20 MB (413 above). */
  maxRunsyncBodyBytes?: number;
  /** `?wait=` default of /runsync. Default 90 s. */
  runsyncDefaultWaitMs?: number;
  /** `?wait=` default of /status-sync. Default 90 s. */
  statusSyncDefaultWaitMs?: number;
  /** Bounds `?wait=` is clamped to. Defaults 1000 and 300000 ms. */
  syncWaitMinMs?: number;
  syncWaitMaxMs?: number;
  /** Tries per webhook, the first included. Default 3. */
  webhookAttempts?: number;
  /** Pause between webhook tries. Default 10 s. */
  webhookRetryDelayMs?: number;
  /** Each try is abandoned after this (the receiver may still process it: a duplicate). Default 10 s. */
  webhookTimeoutMs?: number;
  /** A webhook body over this many bytes is never delivered (large results that never arrive). Default 10 MiB. */
  webhookMaxBodyBytes?: number;
  /** Final states that send a webhook. Default ["COMPLETED", "FAILED"]. */
  webhookStatuses?: string[];
  /** Lifetime of generated image URLs (like presigned URLs). Default 7 days. */
  fileUrlTtlMs?: number;
  /** Cap on generated output sizes (`large` handler). Default 64 MiB. */
  maxOutputBytes?: number;
  /** How often expired jobs are dropped from memory. Default a quarter of the shorter retention, 20 ms .. 10 s. */
  purgeIntervalMs?: number;
  /** Removed jobs kept for `jobs.get` inspection: at most this many, and this many bytes. Defaults 1000, 128 MiB. */
  historyMaxJobs?: number;
  historyMaxBytes?: number;
  /** Entries kept per endpoint for GET /requests. Default 100. */
  requestLogSize?: number;
  faults?: FaultOptions;
  /** Extra or replacement handlers by name (matched like `input.handler`). */
  handlers?: Record<string, JobHandler>;
}

export type Settings = Required<Omit<EmulatorOptions, 'faults' | 'handlers' | 'endpoints' | 'rateLimits'>> & {
  endpoints: Record<string, EndpointOptions>;
  rateLimits: Record<OperationClass, Required<RateLimit>>;
};

export const DEFAULT_API_KEY = 'emulator-api-key';

const MB = 1024 * 1024;

/** The documented numbers (UPSTREAM.md); retry and health have none. */
export const DOCUMENTED_RATE_LIMITS: Readonly<Record<OperationClass, Required<RateLimit>>> = {
  run: { limit: 1000, windowMs: 10_000, concurrent: 200 },
  runsync: { limit: 2000, windowMs: 10_000, concurrent: 400 },
  status: { limit: 2000, windowMs: 10_000, concurrent: 400 },
  cancel: { limit: 100, windowMs: 10_000, concurrent: 20 },
  purge: { limit: 2, windowMs: 10_000, concurrent: Number.POSITIVE_INFINITY },
  requests: { limit: 10, windowMs: 10_000, concurrent: 2 },
  retry: { limit: Number.POSITIVE_INFINITY, windowMs: 10_000, concurrent: Number.POSITIVE_INFINITY },
  health: { limit: Number.POSITIVE_INFINITY, windowMs: 10_000, concurrent: Number.POSITIVE_INFINITY },
};

const scaled = (value: number, scale: number) =>
  Number.isFinite(value) ? Math.max(1, Math.ceil(value * scale)) : Number.POSITIVE_INFINITY;

export function resolveSettings(o: EmulatorOptions): Settings {
  const retentionMs = o.retentionMs ?? 30 * 60_000;
  const runsyncRetentionMs = o.runsyncRetentionMs ?? 60_000;
  const workers = o.workers ?? 3;
  const scale = o.rateLimitScale ?? 1;
  const rateLimits = {} as Record<OperationClass, Required<RateLimit>>;
  for (const [cls, documented] of Object.entries(DOCUMENTED_RATE_LIMITS) as [
    OperationClass,
    Required<RateLimit>,
  ][]) {
    const own = o.rateLimits?.[cls];
    rateLimits[cls] = {
      limit: scaled(own?.limit ?? documented.limit, scale),
      windowMs: own?.windowMs ?? documented.windowMs,
      concurrent: scaled(own?.concurrent ?? documented.concurrent, scale),
    };
  }
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    apiKey: o.apiKey ?? DEFAULT_API_KEY,
    allowBareApiKey: o.allowBareApiKey ?? true,
    seed: o.seed ?? 1,
    retentionMs,
    runsyncRetentionMs,
    defaultTtlMs: o.defaultTtlMs ?? 24 * 3600_000,
    defaultExecutionTimeoutMs: o.defaultExecutionTimeoutMs ?? 10 * 60_000,
    jobDurationMs: o.jobDurationMs ?? 250,
    startDelayMs: o.startDelayMs ?? 10,
    timeScale: o.timeScale ?? 1,
    workers,
    workersMax: o.workersMax ?? workers,
    endpoints: o.endpoints ?? {},
    queueLimitMin: o.queueLimitMin ?? 50,
    queueLimitPerWorker: o.queueLimitPerWorker ?? 500,
    rateLimits,
    rateLimitScale: scale,
    rateLimitsEnabled: o.rateLimitsEnabled ?? true,
    maxRunBodyBytes: o.maxRunBodyBytes ?? 10 * MB,
    maxRunsyncBodyBytes: o.maxRunsyncBodyBytes ?? 20 * MB,
    runsyncDefaultWaitMs: o.runsyncDefaultWaitMs ?? 90_000,
    statusSyncDefaultWaitMs: o.statusSyncDefaultWaitMs ?? 90_000,
    syncWaitMinMs: o.syncWaitMinMs ?? 1000,
    syncWaitMaxMs: o.syncWaitMaxMs ?? 300_000,
    webhookAttempts: Math.max(1, o.webhookAttempts ?? 3),
    webhookRetryDelayMs: o.webhookRetryDelayMs ?? 10_000,
    webhookTimeoutMs: o.webhookTimeoutMs ?? 10_000,
    webhookMaxBodyBytes: o.webhookMaxBodyBytes ?? 10 * MB,
    webhookStatuses: o.webhookStatuses ?? ['COMPLETED', 'FAILED'],
    fileUrlTtlMs: o.fileUrlTtlMs ?? 7 * 24 * 3600_000,
    maxOutputBytes: o.maxOutputBytes ?? 64 * MB,
    purgeIntervalMs:
      o.purgeIntervalMs ??
      Math.max(20, Math.min(Math.floor(Math.min(retentionMs, runsyncRetentionMs) / 4), 10_000)),
    historyMaxJobs: o.historyMaxJobs ?? 1000,
    historyMaxBytes: o.historyMaxBytes ?? 128 * MB,
    requestLogSize: o.requestLogSize ?? 100,
  };
}
