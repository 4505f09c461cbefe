// The job engine: per-endpoint queues and workers, the state machine, retention/TTL expiry and memory bounds.
import { randomUUID } from 'node:crypto';
import { handlerContext, workerIdFor } from './context.ts';
import { BUILTIN_HANDLERS, handlerName, type JobHandler, workerError } from './handlers.ts';
import { History } from './history.ts';
import { isFinal, type Job, type JobSnapshot, snapshot, statusJson, statusObject } from './jobs.ts';
import type { EndpointOptions, Settings } from './options.ts';
import type { EmulatorStats } from './stats.ts';
import type { Timers } from './timers.ts';
import type { WebhookSender } from './webhooks.ts';

/** The parts of a /run or /runsync body the engine keeps. */
export interface SubmitRequest {
  input: Record<string, unknown>;
  webhook?: string;
  policy?: { executionTimeout?: number; ttl?: number; lowPriority?: boolean };
}

/** One job in the state file (`EmulatorOptions.stateFile`). */
export interface SavedJob {
  id: string;
  endpointId: string;
  sync: boolean;
  input: Record<string, unknown>;
  webhook?: string;
  policy: Job['policy'];
  createdAt: number;
  status: string;
  deadline: number;
  expiresAt: number;
  retries: number;
  hasOutput: boolean;
  startedAt?: number;
  finishedAt?: number;
  delayTime?: number;
  executionTime?: number;
  output?: unknown;
  error?: string;
  finalJson?: string;
}

interface EndpointState {
  readonly id: string;
  workers: number;
  workersMax: number;
  queue: Job[];
  /** `policy.lowPriority` jobs only start when no normal job waits. */
  lowQueue: Job[];
  /** Worker slots; a job sits here from pick-up until it is final. */
  slots: (Job | undefined)[];
}

type Outcome =
  | { status: 'COMPLETED'; hasOutput: boolean; output?: unknown }
  | { status: 'FAILED'; error: string }
  | { status: 'CANCELLED' | 'TIMED_OUT' };

export interface EndpointHealthView {
  jobs: { completed: number; failed: number; inProgress: number; inQueue: number; retried: number };
  workers: {
    idle: number;
    initializing: number;
    ready: number;
    running: number;
    throttled: number;
    unhealthy: number;
  };
}

export class Engine {
  private readonly jobs = new Map<string, Job>();
  private readonly history: History;
  private readonly endpoints = new Map<string, EndpointState>();
  private readonly handlers = new Map<string, JobHandler>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly settings: Settings,
    private readonly stats: EmulatorStats,
    private readonly timers: Timers,
    private readonly webhooks: WebhookSender,
    /** The server's own URL, known only once it listens. */
    private readonly baseUrl: () => string,
    extraHandlers: Record<string, JobHandler> = {},
  ) {
    for (const [name, handler] of Object.entries({ ...BUILTIN_HANDLERS, ...extraHandlers })) {
      this.handlers.set(handlerName({ handler: name }), handler);
    }
    this.history = new History(settings.historyMaxJobs, settings.historyMaxBytes);
    this.sweeper = setInterval(() => this.sweep(), settings.purgeIntervalMs);
    this.sweeper.unref();
  }

  /** Live jobs in memory (bounded by retention: expired ones are swept). */
  get size(): number {
    return this.jobs.size;
  }

  endpoint(id: string): EndpointState {
    let ep = this.endpoints.get(id);
    if (!ep) {
      const own = this.settings.endpoints[id];
      const workers = own?.workers ?? this.settings.workers;
      ep = {
        id,
        workers,
        workersMax: own?.workersMax ?? (own?.workers !== undefined ? workers : this.settings.workersMax),
        queue: [],
        lowQueue: [],
        slots: [],
      };
      this.endpoints.set(id, ep);
    }
    return ep;
  }

  configureEndpoint(id: string, options: EndpointOptions): void {
    const ep = this.endpoint(id);
    if (options.workers !== undefined) ep.workers = Math.max(0, Math.floor(options.workers));
    if (options.workersMax !== undefined) ep.workersMax = Math.max(0, Math.floor(options.workersMax));
    this.pump(ep);
  }

  /** The documented queue rule: more than 50 queued AND more than WorkersMax × 500 queued. */
  queueFull(endpointId: string): boolean {
    const ep = this.endpoint(endpointId);
    const queued = ep.queue.length + ep.lowQueue.length;
    return queued > this.settings.queueLimitMin && queued > ep.workersMax * this.settings.queueLimitPerWorker;
  }

  submit(endpointId: string, request: SubmitRequest, sync: boolean): Job {
    const now = Date.now();
    const ttl = request.policy?.ttl ?? this.settings.defaultTtlMs;
    const job: Job = {
      // RunPod ids: a UUID plus a "-u1" suffix; runsync ids carry a "sync-" prefix in the docs' examples.
      id: `${sync ? 'sync-' : ''}${randomUUID()}-u1`,
      endpointId,
      sync,
      input: request.input,
      webhook: request.webhook,
      policy: {
        executionTimeout: request.policy?.executionTimeout ?? this.settings.defaultExecutionTimeoutMs,
        ttl,
        lowPriority: request.policy?.lowPriority ?? false,
      },
      createdAt: now,
      status: 'IN_QUEUE',
      queuedAt: now,
      deadline: now + ttl,
      expiresAt: now + ttl,
      hasOutput: false,
      retries: 0,
      chunks: [],
      streamCursor: 0,
      waiters: new Set(),
      deliveries: [],
    };
    this.jobs.set(job.id, job);
    this.stats.jobs.submitted++;
    this.enqueue(job);
    return job;
  }

  /** The job as /status sees it: undefined when unknown, on another endpoint, or past its expiry. */
  find(endpointId: string, id: string): Job | undefined {
    const job = this.jobs.get(id);
    if (!job || job.endpointId !== endpointId) return undefined;
    if (Date.now() >= job.expiresAt) {
      this.remove(job, 'expired');
      return undefined;
    }
    return job;
  }

  cancel(job: Job): void {
    if (!isFinal(job.status)) this.finish(job, { status: 'CANCELLED' });
  }

  /** Only FAILED and TIMED_OUT jobs go back to the queue, same id, output cleared. */
  retry(job: Job): boolean {
    if (job.status !== 'FAILED' && job.status !== 'TIMED_OUT') return false;
    job.retries++;
    job.status = 'IN_QUEUE';
    job.queuedAt = Date.now();
    job.expiresAt = job.deadline;
    job.hasOutput = false;
    job.output = undefined;
    job.error = undefined;
    job.delayTime = undefined;
    job.executionTime = undefined;
    job.workerId = undefined;
    job.startedAt = undefined;
    job.finishedAt = undefined;
    job.finalJson = undefined;
    job.chunks = [];
    job.streamCursor = 0;
    this.stats.jobs.retried++;
    this.enqueue(job);
    return true;
  }

  /** Removes every queued job (gone: 404 after); running jobs are untouched. */
  purgeQueue(endpointId: string): number {
    const ep = this.endpoint(endpointId);
    const queued = [...ep.queue, ...ep.lowQueue];
    ep.queue = [];
    ep.lowQueue = [];
    for (const job of queued) this.remove(job, 'purged');
    return queued.length;
  }

  /** `?ttl=` on /status: the job (and its result) goes away that many ms from now, if not sooner. */
  shortenTtl(job: Job, ms: number): void {
    const at = Date.now() + ms;
    job.deadline = Math.min(job.deadline, at);
    job.expiresAt = Math.min(job.expiresAt, at);
  }

  /** Chunks streamed since the previous read. */
  readStream(job: Job): { status: string; stream: { output: unknown }[] } {
    const stream = job.chunks.slice(job.streamCursor).map((output) => ({ output }));
    job.streamCursor = job.chunks.length;
    return { status: job.status, stream };
  }

  /** Resolves when the job is final or removed, after `ms`, or when `signal` aborts (client gone). */
  waitFinal(job: Job, ms: number, signal?: AbortSignal): Promise<void> {
    if (isFinal(job.status) || !this.jobs.has(job.id)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.timers.cancel(timer);
        job.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.timers.after(ms, done);
      job.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  isLive(job: Job): boolean {
    return this.jobs.get(job.id) === job;
  }

  health(endpointId: string): EndpointHealthView {
    const counts = { completed: 0, failed: 0, inProgress: 0, inQueue: 0, retried: 0 };
    for (const job of this.jobsOf(endpointId)) {
      if (job.status === 'COMPLETED') counts.completed++;
      else if (job.status === 'FAILED' || job.status === 'TIMED_OUT') counts.failed++;
      else if (job.status === 'IN_PROGRESS') counts.inProgress++;
      else if (job.status === 'IN_QUEUE') counts.inQueue++;
      if (job.retries > 0) counts.retried++;
    }
    const ep = this.endpoint(endpointId);
    const running = ep.slots.filter((job) => job?.status === 'IN_PROGRESS').length;
    const idle = Math.max(0, ep.workers - ep.slots.filter(Boolean).length);
    return {
      jobs: counts,
      workers: { idle, initializing: 0, ready: idle, running, throttled: 0, unhealthy: 0 },
    };
  }

  /** Live jobs of one endpoint (or all), expired ones dropped first. */
  *jobsOf(endpointId?: string): Generator<Job> {
    const now = Date.now();
    for (const job of [...this.jobs.values()]) {
      if (endpointId !== undefined && job.endpointId !== endpointId) continue;
      if (now >= job.expiresAt) this.remove(job, 'expired');
      else yield job;
    }
  }

  /** A live job's snapshot, or the last one of a removed job still in the bounded history. */
  inspect(id: string): JobSnapshot | undefined {
    const job = this.jobs.get(id);
    if (job) {
      const live = this.find(job.endpointId, id);
      if (live) return snapshot(live);
    }
    return this.history.get(id);
  }

  /** Ends a job's retention now (as if its 30 minutes had passed). */
  expire(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) return false;
    this.remove(job, 'expired');
    return true;
  }

  sweep(): void {
    const now = Date.now();
    for (const job of [...this.jobs.values()]) {
      if (now >= job.expiresAt) this.remove(job, 'expired');
    }
  }

  /** The live jobs as plain data, for the state file: what /status needs, and enough to run a job again. */
  saved(): SavedJob[] {
    return [...this.jobs.values()].map((job) => {
      const final = isFinal(job.status);
      return {
        id: job.id,
        endpointId: job.endpointId,
        sync: job.sync,
        input: job.input,
        ...(job.webhook !== undefined && { webhook: job.webhook }),
        policy: job.policy,
        createdAt: job.createdAt,
        status: job.status,
        deadline: job.deadline,
        expiresAt: job.expiresAt,
        retries: job.retries,
        hasOutput: final && job.hasOutput,
        ...(final && {
          ...(job.startedAt !== undefined && { startedAt: job.startedAt }),
          ...(job.finishedAt !== undefined && { finishedAt: job.finishedAt }),
          ...(job.delayTime !== undefined && { delayTime: job.delayTime }),
          ...(job.executionTime !== undefined && { executionTime: job.executionTime }),
          ...(job.hasOutput && { output: job.output }),
          ...(job.error !== undefined && { error: job.error }),
          ...(job.finalJson !== undefined && { finalJson: job.finalJson }),
        }),
      };
    });
  }

  /**
   * Jobs of an earlier run: finished ones answer /status until their retention ends, as before the
   * restart; unfinished ones go back to the queue and run again (a worker restart upstream does the same).
   */
  restore(saved: readonly SavedJob[]): number {
    const now = Date.now();
    let restored = 0;
    for (const s of saved) {
      if (now >= s.expiresAt || this.jobs.has(s.id)) continue;
      const final = isFinal(s.status);
      const job: Job = {
        id: s.id,
        endpointId: s.endpointId,
        sync: s.sync,
        input: s.input,
        webhook: s.webhook,
        policy: s.policy,
        createdAt: s.createdAt,
        status: final ? s.status : 'IN_QUEUE',
        queuedAt: now,
        deadline: s.deadline,
        expiresAt: s.expiresAt,
        hasOutput: final && s.hasOutput,
        retries: s.retries,
        chunks: [],
        streamCursor: 0,
        waiters: new Set(),
        deliveries: [],
      };
      if (final) {
        if (s.startedAt !== undefined) job.startedAt = s.startedAt;
        if (s.finishedAt !== undefined) job.finishedAt = s.finishedAt;
        if (s.delayTime !== undefined) job.delayTime = s.delayTime;
        if (s.executionTime !== undefined) job.executionTime = s.executionTime;
        if (s.hasOutput) job.output = s.output;
        if (s.error !== undefined) job.error = s.error;
        if (s.finalJson !== undefined) job.finalJson = s.finalJson;
      }
      this.jobs.set(job.id, job);
      restored++;
      if (!final) this.enqueue(job);
    }
    return restored;
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const job of this.jobs.values()) {
      const run = job.run;
      job.run = undefined;
      run?.abort(new Error('emulator stopped'));
      for (const waiter of [...job.waiters]) waiter();
    }
  }

  private enqueue(job: Job): void {
    const ep = this.endpoint(job.endpointId);
    (job.policy.lowPriority ? ep.lowQueue : ep.queue).push(job);
    this.pump(ep);
  }

  /** Fills free worker slots from the queue; the pick-up itself takes `startDelayMs`. */
  private pump(ep: EndpointState): void {
    for (let slot = 0; slot < ep.workers; slot++) {
      if (ep.slots[slot]) continue;
      const job = ep.queue.shift() ?? ep.lowQueue.shift();
      if (!job) return;
      ep.slots[slot] = job;
      this.timers.after(this.settings.startDelayMs, () => this.begin(ep, slot, job));
    }
  }

  private begin(ep: EndpointState, slot: number, job: Job): void {
    if (ep.slots[slot] !== job || job.status !== 'IN_QUEUE' || !this.isLive(job)) return;
    const now = Date.now();
    job.status = 'IN_PROGRESS';
    job.startedAt = now;
    job.delayTime = now - job.queuedAt;
    job.workerId = workerIdFor(ep.id, slot, this.settings.seed);
    job.chunks = [];
    job.streamCursor = 0;
    this.stats.jobs.started++;
    const run = new AbortController();
    job.run = run;
    job.execTimer = this.timers.after(job.policy.executionTimeout, () =>
      this.finish(job, { status: 'TIMED_OUT' }),
    );
    const name = handlerName(job.input);
    const handler = this.handlers.get(name);
    const workerId = job.workerId;
    if (!handler) {
      const known = [...this.handlers.keys()].join(', ');
      this.finish(job, {
        status: 'FAILED',
        error: workerError(`unknown handler "${name}" (known: ${known})`, workerId),
      });
      return;
    }
    handler(handlerContext(job, name, workerId, run.signal, this.settings, this.baseUrl)).then(
      (result) => {
        if (job.run !== run) return; // cancelled, timed out or expired meanwhile: the result is discarded
        if (result.kind === 'failed') this.finish(job, { status: 'FAILED', error: result.error });
        else
          this.finish(job, {
            status: 'COMPLETED',
            hasOutput: result.hasOutput,
            output: result.hasOutput ? result.output : undefined,
          });
      },
      (error: unknown) => {
        if (job.run !== run) return;
        const message = error instanceof Error ? error.message : String(error);
        this.finish(job, { status: 'FAILED', error: workerError(message, workerId) });
      },
    );
  }

  private finish(job: Job, outcome: Outcome): void {
    if (isFinal(job.status) || !this.isLive(job)) return;
    const now = Date.now();
    this.timers.cancel(job.execTimer);
    job.execTimer = undefined;
    const run = job.run;
    job.run = undefined;
    run?.abort(new Error(outcome.status));
    if (job.startedAt !== undefined) job.executionTime = now - job.startedAt;
    this.release(job);
    job.status = outcome.status;
    job.finishedAt = now;
    if (outcome.status === 'COMPLETED') {
      job.hasOutput = outcome.hasOutput;
      job.output = outcome.output;
    }
    if (outcome.status === 'FAILED') job.error = outcome.error;
    const retention = job.sync ? this.settings.runsyncRetentionMs : this.settings.retentionMs;
    job.expiresAt = Math.min(job.deadline, now + retention);
    job.finalJson = JSON.stringify(statusObject(job));
    const counters = this.stats.jobs;
    if (outcome.status === 'COMPLETED') counters.completed++;
    else if (outcome.status === 'FAILED') counters.failed++;
    else if (outcome.status === 'CANCELLED') counters.cancelled++;
    else counters.timedOut++;
    for (const waiter of [...job.waiters]) waiter();
    this.webhooks.deliver(job);
    this.pump(this.endpoint(job.endpointId));
  }

  /** Takes the job out of its worker slot and the queue. */
  private release(job: Job): void {
    const ep = this.endpoint(job.endpointId);
    const slot = ep.slots.indexOf(job);
    if (slot >= 0) ep.slots[slot] = undefined;
    ep.queue = ep.queue.filter((queued) => queued !== job);
    ep.lowQueue = ep.lowQueue.filter((queued) => queued !== job);
  }

  private remove(job: Job, reason: 'expired' | 'purged'): void {
    if (!this.isLive(job)) return;
    this.timers.cancel(job.execTimer);
    job.execTimer = undefined;
    const run = job.run;
    job.run = undefined;
    run?.abort(new Error(reason));
    this.release(job);
    this.jobs.delete(job.id);
    this.stats.jobs[reason]++;
    this.history.add(snapshot(job, reason), statusJson(job).length);
    for (const waiter of [...job.waiters]) waiter();
    this.pump(this.endpoint(job.endpointId));
  }
}
