// The chaos engine: runs a seeded workload through local mode under every fault at once, then checks the promises.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type EmulatorStats, startEmulator } from '../../local/emulator/index.ts';
import { ChaosClient, type RequestRecord } from './client.ts';
import { CpuHog } from './cpu-hog.ts';
import { Forger, type ForgeryFigures, foreignBody, forgeContinuously, forgeryFigures } from './forgery.ts';
import { Gate } from './gate.ts';
import {
  BASE_FAULTS,
  CHAOS_CONFIG,
  CHAOS_EMULATOR,
  type ChaosOptions,
  SWEEP_INTERVAL_MS,
} from './options.ts';
import { type QueueFaultCounters, QueueFaults } from './queue-faults.ts';
import { parkJob } from './rate-limit-burst.ts';
import { Dice, sleep } from './rng.ts';
import { ENDPOINT_ID, runScenario, type ScenarioContext, type ScenarioFacts } from './scenario.ts';
import { type SettleFigures, settle } from './settle.ts';
import { type StorageFaultCounters, StorageFaults, type StorageService } from './storage-faults.ts';
import { ChaosSystem, type SweepWindow } from './system.ts';
import { CHAOS_HANDLER, UpstreamLedger } from './upstream-ledger.ts';
import { startUpstreamProxy } from './upstream-proxy.ts';
import { type Outcome, verifyRun } from './verify.ts';
import { waitsOutItsLife } from './waiting-out.ts';
import { type JobSpec, planWorkload } from './workload.ts';

export interface ChaosReport {
  jobs: number;
  seed: number;
  wallMs: number;
  /** The longest the process's event loop was held up (archiver, stores and emulator share it): how loaded it ran. */
  eventLoopDelayMaxMs: number;
  phaseMs: { start: number; submit: number; settle: number; verify: number };
  requests: {
    total: number;
    byRole: Record<string, number>;
    /** By how each reached the archiver: submit, queue, batch, track. */
    byVia: Record<string, number>;
    answers: Record<string, number>;
    replays: number;
  };
  emulator: EmulatorStats;
  storage: Record<StorageService, StorageFaultCounters>;
  scenario: ScenarioFacts;
  forged: ForgeryFigures;
  handlerErrors: number;
  /** The submit queue's consumers: the faults they met, failed poller rounds, messages left dead-lettered. */
  queue: { faults: QueueFaultCounters; injected: number; pollerErrors: number; deadLetters: number };
  /** The regular sweeper's passes: how many, the longest, and the worst lag (SweeperBehind's metric). */
  sweeper: {
    invocations: number;
    passes: number;
    longestPassMs: number;
    oldestDueAgeMs: number;
    /** When the invocation that met the oldest due job started, in ms from the run's start (the step lines' +s). */
    oldestDueSeenAtMs: number;
  };
  /** How settling ended and how far behind the sweeper fell meanwhile. */
  settle: SettleFigures;
  /** Busy processes that competed for the cores (the slowed run). */
  cpuHogs: number;
  restarts: number;
  outcome: Outcome;
  violations: string[];
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = performance.now();
  const startedAtMs = Date.now();
  const log = options.log;
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'archiver-chaos-')));
  const hog = options.cpuHogs > 0 ? new CpuHog(options.cpuHogs) : undefined;
  if (hog) log(`${hog.processes} busy processes compete for the cores (pids ${hog.pids.join(', ')})`);
  const ledger = new UpstreamLedger();
  const emulator = await startEmulator({
    ...CHAOS_EMULATOR,
    seed: options.seed,
    historyMaxJobs: options.jobs * 3 + 1000,
    historyMaxBytes: 1024 * 1024 * 1024,
    faults: BASE_FAULTS,
    handlers: { [CHAOS_HANDLER]: ledger.handler },
  });
  const proxy = await startUpstreamProxy(emulator.port);
  const storage = new StorageFaults({ seed: options.seed });
  const queueFaults = new QueueFaults(options.seed);
  const secret = randomBytes(32).toString('base64url');
  const system = new ChaosSystem({
    dataDir,
    upstreamBaseUrl: `${proxy.url}/v2/${ENDPOINT_ID}`,
    apiKey: emulator.apiKey,
    webhookSecret: secret,
    faults: storage,
    queueFaults,
    config: CHAOS_CONFIG,
    sweepIntervalMs: SWEEP_INTERVAL_MS,
  });
  const runFrom = new Date(Date.now() - 3_600_000).toISOString();
  try {
    await system.start();
    const phaseMs = { start: Math.round(performance.now() - started), submit: 0, settle: 0, verify: 0 };
    log(`archiver up at ${system.url}, upstream emulator behind ${proxy.url}, data in ${dataDir}`);
    let deadline = Number.POSITIVE_INFINITY;
    const gate = new Gate();
    const client = new ChaosClient(system.url, gate, new Dice(options.seed, 'client'), () => deadline);
    const forger = new Forger(system.url, secret);
    const plan = planWorkload(options.jobs, options.seed);
    const parkedId = await parkJob(emulator, ENDPOINT_ID);
    const facts: ScenarioFacts = {
      restartDowntimeMs: 0,
      outageMs: 0,
      bursts: [],
      neighbour429: 0,
      runBursts: [],
      lostAtRestart: 0,
      reconciled: 0,
      timeline: [],
    };
    const forgeable: RequestRecord[] = [];
    const ctx: ScenarioContext = {
      emulator,
      system,
      proxy,
      client,
      gate,
      forger,
      ledger,
      seed: options.seed,
      parkedId,
      foreignBody: () =>
        foreignBody(forgeable, ledger, emulator, new Dice(options.seed, `foreign-${forger.sent.length}`)),
      log,
      pending: [],
    };

    // The workload: `concurrency` clients taking the plan in order (a batch's lines together).
    const submitStarted = performance.now();
    let next = 0;
    let done = 0;
    const reportEvery = Math.max(100, Math.round(plan.length / 10));
    let nextReport = reportEvery;
    const cancels: Promise<void>[] = [];
    const takeBatch = (first: JobSpec): JobSpec[] => {
      const lines = [first];
      for (let line = plan[next]; line && line.batch === first.batch; line = plan[next]) {
        lines.push(line);
        next++;
      }
      return lines;
    };
    // The steps follow the plan up to the late runsync jobs (its tail), which wait for them (workload.ts).
    const beforeFaultsEnd = plan.filter((s) => !s.afterFaults).length;
    const progress = () => Math.min(1, next / beforeFaultsEnd);
    const scenario = runScenario(ctx, progress, facts);
    const worker = async () => {
      for (let spec = plan[next++]; spec; spec = plan[next++]) {
        if (spec.afterFaults) await scenario;
        const records =
          spec.via === 'track'
            ? [await client.track(spec, emulator, ENDPOINT_ID)]
            : spec.via === 'batch'
              ? await client.submitBatch(takeBatch(spec))
              : [await client.submit(spec)];
        for (const record of records) {
          const role = record.spec.role;
          if (role === 'cancel') cancels.push(sleep(300).then(() => client.cancel(record)));
          // Queued jobs too: a forged body may reach a job still QUEUED.
          if ((role === 'workload' || role === 'queued') && record.jobIds.length > 0) forgeable.push(record);
        }
        done += records.length;
        if (done >= nextReport) {
          nextReport += reportEvery;
          const elapsed = performance.now() - submitStarted;
          const eta = (elapsed / done) * (plan.length - done);
          log(
            `${done}/${plan.length} requests answered, submitting ends in about ${Math.round(eta / 1000)} s`,
          );
        }
      }
    };
    const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
    const forging = forgeContinuously(forger, forgeable, ledger, emulator, options.seed, workers);
    await Promise.all([workers, scenario, forging]);
    await Promise.all([...cancels, ...ctx.pending]);
    phaseMs.submit = Math.round(performance.now() - submitStarted);
    log(`workload submitted in ${(phaseMs.submit / 1000).toFixed(1)} s; settling`);

    const settleStarted = performance.now();
    // Clients keep retrying while settling goes on; settling itself ends by progress, not by this clock.
    deadline = Date.now() + options.settleTimeoutMs;
    const settled = await settle(system, client, options.settleTimeoutMs, log, (job, key) =>
      waitsOutItsLife(job, key, ledger, emulator),
    );
    phaseMs.settle = Math.round(performance.now() - settleStarted);

    const verifyStarted = performance.now();
    const view = system.clean();
    let verification: Awaited<ReturnType<typeof verifyRun>>;
    let deadLetters = 0;
    try {
      verification = await verifyRun({
        view,
        dataDir,
        emulator,
        ledger,
        records: client.records,
        runtimes: system.runtimes,
        forgeries: forger.sent,
        crashedIds: new Set([
          ...(facts.killedPass?.claimedIds ?? []),
          ...(facts.killedSubmitter?.jobIds ?? []),
        ]),
        sweeps: system.invocations,
        from: runFrom,
        to: new Date(Date.now() + 3_600_000).toISOString(),
      });
      deadLetters = await deadLettered(view);
    } finally {
      view.close();
    }
    phaseMs.verify = Math.round(performance.now() - verifyStarted);

    // An invocation that found the lease held elsewhere swept nothing: the figures are the others'.
    const sweeping = system.invocations.filter((i) => i.leaseHeld);
    const byRole: Record<string, number> = {};
    const byVia: Record<string, number> = {};
    const answers: Record<string, number> = {};
    let replays = 0;
    for (const record of client.records.values()) {
      byRole[record.spec.role] = (byRole[record.spec.role] ?? 0) + 1;
      byVia[record.spec.via] = (byVia[record.spec.via] ?? 0) + 1;
      for (const [answer, n] of Object.entries(record.answers)) answers[answer] = (answers[answer] ?? 0) + n;
      replays += record.replays;
    }
    return {
      jobs: client.records.size,
      seed: options.seed,
      wallMs: Math.round(performance.now() - started),
      eventLoopDelayMaxMs: Math.round(loopDelay.max / 1e6),
      phaseMs,
      requests: { total: client.records.size, byRole, byVia, answers, replays },
      emulator: structuredClone(emulator.stats),
      storage: structuredClone(storage.counters),
      scenario: facts,
      forged: forgeryFigures(forger.sent),
      handlerErrors: system.handlerErrors,
      queue: {
        faults: structuredClone(queueFaults.counters),
        injected: queueFaults.injected,
        pollerErrors: system.pollerErrors,
        deadLetters,
      },
      sweeper: {
        invocations: sweeping.length,
        passes: sweeping.reduce((n, i) => n + i.passes, 0),
        longestPassMs: Math.max(0, ...sweeping.map((i) => i.longestPassMs)),
        ...oldestDue(sweeping, startedAtMs),
      },
      settle: settled,
      cpuHogs: options.cpuHogs,
      restarts: system.restarts,
      outcome: verification.outcome,
      // A doubled event names its publishers, so the path that announced twice is in the report.
      violations: verification.violations.map((line) => {
        const doubled = /^(\w+) .*: (\d+) Job Archived events published/.exec(line);
        const by = doubled && system.publishers.get(`Job Archived#${doubled[1]}`);
        return by ? `${line} (by ${by.join(', ')})` : line;
      }),
    };
  } finally {
    loopDelay.disable();
    hog?.stop();
    await system.stop();
    await proxy.stop();
    await emulator.stop();
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

/** Messages in the current life's dead-letter queue (their jobs were settled all the same, or verify says so). */
async function deadLettered(view: ReturnType<ChaosSystem['clean']>): Promise<number> {
  const { Attributes } = await view.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: view.queues.deadLetterQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** How late the oldest due job any invocation met was, and when: a fault step's doing, or settling's. */
function oldestDue(
  invocations: readonly SweepWindow[],
  runStartedAtMs: number,
): { oldestDueAgeMs: number; oldestDueSeenAtMs: number } {
  const worst = invocations.reduce<SweepWindow | undefined>(
    (w, i) => (w === undefined || i.oldestDueAgeMs > w.oldestDueAgeMs ? i : w),
    undefined,
  );
  return {
    oldestDueAgeMs: worst?.oldestDueAgeMs ?? 0,
    oldestDueSeenAtMs: worst ? worst.startedAt - runStartedAtMs : 0,
  };
}
