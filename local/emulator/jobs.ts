// The job record, the status object the upstream shows for it, and the inspection snapshot handed to tests.
import { sortKeys } from './random.ts';

export const FINAL_STATUSES: readonly string[] = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

export const isFinal = (status: string): boolean => FINAL_STATUSES.includes(status);

export interface JobPolicy {
  executionTimeout: number;
  ttl: number;
  lowPriority: boolean;
}

/** One webhook POST as the emulator made it (or a delivery it chose not to make). */
export interface WebhookDelivery {
  /** 1-based try number; 0 for a delivery that was never attempted (dropped, too large). */
  attempt: number;
  at: number;
  body: 'normal' | 'empty' | 'null';
  duplicate: boolean;
  outcome: 'delivered' | 'http-error' | 'timeout' | 'network-error' | 'dropped' | 'too-large';
  httpStatus?: number;
  error?: string;
}

export interface Job {
  readonly id: string;
  readonly endpointId: string;
  /** Submitted through /runsync: shorter retention. */
  readonly sync: boolean;
  readonly input: Record<string, unknown>;
  readonly webhook: string | undefined;
  readonly policy: JobPolicy;
  readonly createdAt: number;
  status: string;
  /** When the job last entered the queue (submit or retry): delayTime counts from here. */
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** End of the job's whole life: createdAt + policy.ttl, shortened by `?ttl=`. */
  deadline: number;
  /** When /status starts answering 404: the deadline, or the end of retention once final. */
  expiresAt: number;
  delayTime?: number;
  executionTime?: number;
  hasOutput: boolean;
  output?: unknown;
  error?: string;
  retries: number;
  workerId?: string;
  /** Everything streamed by the current run, and how much of it /stream has handed out. */
  chunks: unknown[];
  streamCursor: number;
  /** The exact status JSON once final (outputs can be megabytes: serialise once). */
  finalJson?: string;
  /** Present while a handler runs; aborting it stops the handler. */
  run?: AbortController;
  execTimer?: NodeJS.Timeout;
  waiters: Set<() => void>;
  deliveries: WebhookDelivery[];
}

/** The status object as /status returns it: keys in alphabetical order, as the real (Go) service emits them. */
export function statusObject(job: Job): Record<string, unknown> {
  const final = isFinal(job.status);
  return sortKeys({
    id: job.id,
    status: job.status,
    delayTime: job.delayTime,
    executionTime: job.executionTime,
    output: job.hasOutput ? job.output : undefined,
    error: job.error,
    retries: final || job.retries > 0 ? job.retries : undefined,
    workerId: job.workerId,
  });
}

export function statusJson(job: Job): string {
  return job.finalJson ?? JSON.stringify(statusObject(job));
}

/** What `emulator.jobs.get` returns: the job as produced, including the exact bytes /status serves. */
export interface JobSnapshot {
  id: string;
  endpointId: string;
  status: string;
  sync: boolean;
  input: Record<string, unknown>;
  webhook: string | undefined;
  policy: JobPolicy;
  createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  expiresAt: number;
  retries: number;
  workerId: string | undefined;
  hasOutput: boolean;
  output: unknown;
  error: string | undefined;
  /** Every chunk the current run streamed. */
  streamed: unknown[];
  /** The status object /status serves now (or served last, for a removed job). */
  statusObject: Record<string, unknown>;
  /** Its exact JSON text, byte for byte. */
  statusJson: string;
  webhookDeliveries: WebhookDelivery[];
  /** Set once the job left memory: /status answers 404 for it. */
  removed: 'expired' | 'purged' | undefined;
}

export function snapshot(job: Job, removed?: 'expired' | 'purged'): JobSnapshot {
  return {
    id: job.id,
    endpointId: job.endpointId,
    status: job.status,
    sync: job.sync,
    input: job.input,
    webhook: job.webhook,
    policy: job.policy,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    expiresAt: job.expiresAt,
    retries: job.retries,
    workerId: job.workerId,
    hasOutput: job.hasOutput,
    output: job.output,
    error: job.error,
    streamed: [...job.chunks],
    statusObject: statusObject(job),
    statusJson: statusJson(job),
    webhookDeliveries: job.deliveries,
    removed,
  };
}
