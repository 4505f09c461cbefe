// Counters of everything the emulator did, live and resettable, so tests and benchmarks can assert on them.

export interface JobCounters {
  submitted: number;
  started: number;
  completed: number;
  failed: number;
  cancelled: number;
  timedOut: number;
  retried: number;
  /** Removed at the end of retention or policy.ttl (or `?ttl=`); /status answers 404 after. */
  expired: number;
  /** Removed from the queue by /purge-queue. */
  purged: number;
}

export interface WebhookCounters {
  /** POSTs made: first tries, retries and injected duplicates. */
  sent: number;
  /** POSTs answered 2xx. */
  delivered: number;
  /** POSTs after the first try of a delivery. */
  retried: number;
  /** POSTs abandoned after webhookTimeoutMs. */
  timeouts: number;
  /** Deliveries given up after every try failed. */
  failed: number;
  /** Deliveries never sent: drop fault. */
  dropped: number;
  /** Deliveries never sent: body over webhookMaxBodyBytes. */
  tooLarge: number;
  /** Final states outside webhookStatuses (no webhook, as configured). */
  skipped: number;
  duplicated: number;
  delayed: number;
  emptyBody: number;
  nullBody: number;
}

export interface EmulatorStats {
  /** Requests by operation: run, runsync, status, status-sync, stream, cancel, retry, purge-queue, health, requests, files. */
  requests: Record<string, number>;
  /** Answers by HTTP status code. */
  responses: Record<string, number>;
  /** Every 429 sent (rate, concurrency and queue size). */
  tooManyRequests: number;
  /** 429s from rate or concurrency limits, by operation class. */
  rateLimited: Record<string, number>;
  /** 429s from the queue-size rule. */
  queueFull: number;
  unauthorized: number;
  /** 5xx answers injected by faults (serverError and lostResponse). */
  injectedErrors: number;
  /** Requests held back by the latency fault. */
  delayedRequests: number;
  jobs: JobCounters;
  webhooks: WebhookCounters;
}

export function createStats(): EmulatorStats {
  return {
    requests: {},
    responses: {},
    tooManyRequests: 0,
    rateLimited: {},
    queueFull: 0,
    unauthorized: 0,
    injectedErrors: 0,
    delayedRequests: 0,
    jobs: {
      submitted: 0,
      started: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      timedOut: 0,
      retried: 0,
      expired: 0,
      purged: 0,
    },
    webhooks: {
      sent: 0,
      delivered: 0,
      retried: 0,
      timeouts: 0,
      failed: 0,
      dropped: 0,
      tooLarge: 0,
      skipped: 0,
      duplicated: 0,
      delayed: 0,
      emptyBody: 0,
      nullBody: 0,
    },
  };
}

/** Zeroes `stats` in place, so references handed out earlier stay live. */
export function resetStats(stats: EmulatorStats): void {
  Object.assign(stats, createStats());
}

export function bump(counters: Record<string, number>, key: string): void {
  counters[key] = (counters[key] ?? 0) + 1;
}
