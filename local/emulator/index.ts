// Public entry of the SubModel/RunPod emulator: startEmulator() and the types tests and local mode use.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Engine, type SavedJob } from './engine.ts';
import { FaultInjector, type FaultOptions } from './faults.ts';
import { isFinal, type JobSnapshot } from './jobs.ts';
import { type EmulatorOptions, type EndpointOptions, resolveSettings, type Settings } from './options.ts';
import { createRequestHandler, RequestLog } from './server.ts';
import { createStats, type EmulatorStats, resetStats } from './stats.ts';
import { Timers } from './timers.ts';
import { WebhookSender } from './webhooks.ts';

export type { FaultOptions, OperationClass, PerClass } from './faults.ts';
export type { HandlerContext, HandlerResult, JobHandler } from './handlers.ts';
export { BUILTIN_HANDLERS, deterministicText } from './handlers.ts';
export type { JobPolicy, JobSnapshot, WebhookDelivery } from './jobs.ts';
export type { EmulatorOptions, EndpointOptions, RateLimit, Settings } from './options.ts';
export { DEFAULT_API_KEY, DOCUMENTED_RATE_LIMITS } from './options.ts';
export { makePng } from './png.ts';
export type { EmulatorStats, JobCounters, WebhookCounters } from './stats.ts';

export type UrlStyle = 'v2' | 'sl';

/** Looking at what the emulator produced, for byte-for-byte comparisons with what a client archived. */
export interface JobInspector {
  /** A live job, or a removed one (expired/purged, `removed` set) while the bounded history holds it. */
  get(id: string): JobSnapshot | undefined;
  /** Live jobs, optionally of one endpoint and/or in one status. */
  list(filter?: { endpointId?: string; status?: string }): JobSnapshot[];
  /** The exact JSON text /status serves (served last, for a removed job). */
  statusJson(id: string): string | undefined;
  /** JSON text of the output alone (undefined when there is none). */
  outputJson(id: string): string | undefined;
  /** Resolves once the job is in one of `statuses` (default: any final state); rejects after `timeoutMs`. */
  waitFor(id: string, statuses?: string | readonly string[], timeoutMs?: number): Promise<JobSnapshot>;
  /** Ends a job's retention now, as if its time had passed: /status answers 404 from here on. */
  expire(id: string): boolean;
  /** Live jobs held in memory. */
  readonly size: number;
}

export interface Emulator {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Base URL up to the endpoint id: `${url}/v2/${id}` or `${url}/api/v1/sl/${id}`. */
  baseUrlFor(endpointId: string, style?: UrlStyle): string;
  readonly jobs: JobInspector;
  /** Live counters (mutated in place; resetStats zeroes them). */
  readonly stats: EmulatorStats;
  resetStats(): void;
  /** Replaces the whole fault set (and restarts its seeded dice); `setFaults({})` clears all faults. */
  setFaults(faults: FaultOptions): void;
  getFaults(): FaultOptions;
  /** Changes an endpoint's workers / workersMax at runtime (0 workers: jobs stay queued). */
  configureEndpoint(endpointId: string, options: EndpointOptions): void;
  /** The resolved settings in force. */
  readonly settings: Readonly<Settings>;
  /** Jobs taken over from the state file of an earlier run (0 without one). */
  readonly restored: number;
  stop(): Promise<void>;
}

/** Reads the jobs an earlier run left in `file`; a missing or unreadable file means none. */
function readState(file: string | undefined): SavedJob[] {
  if (file === undefined || !existsSync(file)) return [];
  try {
    const saved: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(saved) ? (saved as SavedJob[]) : [];
  } catch {
    return [];
  }
}

/** Written whole, then renamed: a crash mid-write leaves the previous state, never half of one. */
function writeState(file: string, jobs: SavedJob[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(jobs), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export async function startEmulator(
  options: EmulatorOptions & {
    /** Keep jobs (with their deadlines and retention) in this file across stop() and a new start. */
    stateFile?: string;
  } = {},
): Promise<Emulator> {
  const settings = resolveSettings(options);
  const stats = createStats();
  const timers = new Timers();
  let faults = new FaultInjector(options.faults ?? {}, settings.seed);
  let url = '';
  const webhooks = new WebhookSender(settings, () => faults, stats);
  const engine = new Engine(settings, stats, timers, webhooks, () => url, options.handlers);
  const requestLog = new RequestLog(settings.requestLogSize);
  const setFaults = (next: FaultOptions) => {
    faults = new FaultInjector({ ...next }, settings.seed);
  };
  const handler = createRequestHandler(
    {
      engine,
      settings,
      stats,
      requestLog: (endpointId) => requestLog.recent(endpointId),
      faults: () => faults,
      getFaults: () => ({ ...faults.options }),
      setFaults,
    },
    requestLog,
  );
  const server = createServer(handler);
  // Long polls (runsync, status-sync) may hold a request up to 5 minutes.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  url = `http://${host}:${port}`;
  const restored = engine.restore(readState(options.stateFile));

  const jobs: JobInspector = {
    get: (id) => engine.inspect(id),
    list: (filter = {}) =>
      [...engine.jobsOf(filter.endpointId)]
        .filter((job) => filter.status === undefined || job.status === filter.status)
        .map((job) => engine.inspect(job.id))
        .filter((snap): snap is JobSnapshot => snap !== undefined),
    statusJson: (id) => engine.inspect(id)?.statusJson,
    outputJson: (id) => {
      const snap = engine.inspect(id);
      return snap?.hasOutput ? JSON.stringify(snap.output) : undefined;
    },
    waitFor: async (id, statuses, timeoutMs = 10_000) => {
      const wanted =
        statuses === undefined ? undefined : typeof statuses === 'string' ? [statuses] : statuses;
      const until = Date.now() + timeoutMs;
      for (;;) {
        const snap = engine.inspect(id);
        const done = snap && (wanted ? wanted.includes(snap.status) : isFinal(snap.status));
        if (snap && done) return snap;
        if (Date.now() >= until) {
          throw new Error(
            `job ${id} not in ${wanted?.join('/') ?? 'a final state'} after ${timeoutMs} ms (${snap?.status ?? 'unknown'})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    expire: (id) => engine.expire(id),
    get size() {
      return engine.size;
    },
  };

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    apiKey: settings.apiKey,
    settings,
    restored,
    baseUrlFor: (endpointId, style = 'v2') =>
      style === 'sl'
        ? `${url}/api/v1/sl/${encodeURIComponent(endpointId)}`
        : `${url}/v2/${encodeURIComponent(endpointId)}`,
    jobs,
    stats,
    resetStats: () => resetStats(stats),
    setFaults,
    getFaults: () => ({ ...faults.options }),
    configureEndpoint: (endpointId, endpointOptions) => engine.configureEndpoint(endpointId, endpointOptions),
    stop: () => {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        // Saved before the engine stops: stopping aborts the running handlers.
        if (options.stateFile !== undefined) writeState(options.stateFile, engine.saved());
        engine.stop();
        timers.clearAll();
        await webhooks.stop();
        await closed;
      })();
      return stopping;
    },
  };
}
