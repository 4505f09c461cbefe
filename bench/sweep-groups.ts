// Item 2, fan-out: lost-webhook jobs over ten endpoints captured by 1, 4 and 8 sweep groups run side by side.
import { performance } from 'node:perf_hooks';
import { DUE_SHARDS } from '../functions/adapters/table-definition.ts';
import type { Config } from '../functions/config.ts';
import { shardsOfGroup, sweepGroupNames } from '../functions/core/sweep-groups.ts';
import { type InvocationSummary, sweepInvocation } from '../functions/core/sweep-invocation.ts';
import { type BuiltRuntime, createRuntime } from '../functions/runtime.ts';
import { SWEEPER_STATUS_LIMITS, SWEEPER_TIMEOUT } from '../lib/constructs/archiver-functions.ts';
import { stackConfigSchema } from '../lib/stack-config.ts';
import { DOCUMENTED_RATE_LIMITS } from '../local/emulator/index.ts';
import { AWS_LATENCY_MS, LIMITS } from './scale-model.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { DynamoCounter, requestTotal, S3Counter } from './support/counting.ts';
import { submitUpstream } from './support/emulator-jobs.ts';
import { type EmulatorProcess, startEmulatorProcess } from './support/emulator-process.ts';
import { type Figure, figure } from './support/figures.ts';
import { runtimeEnv } from './support/runtime-env.ts';
import { pendingJob, seedJobs } from './support/seed.ts';
import { median, sum } from './support/stats.ts';
import { nowMs, runPool, waitUntil } from './support/timing.ts';

/** Issue 15's scale: 1,000 jobs/s over ten endpoints with half the webhooks lost, one look per lost one. */
const ENDPOINTS = 10;
const TARGET_LOOKS_PER_S = 1000 / 2;
const GOAL_TEXT =
  'goal: 1,000 jobs/s with half the webhooks lost over ten endpoints = 500 looks/s fleet-wide kept up with';
const GROUP_COUNTS = [1, 4, 8] as const;
/** Modeled besides: as many groups as there are due shards, the most the stack allows. */
const MODEL_GROUP_COUNTS = [4, 8, DUE_SHARDS] as const;
/** The stack's fan-out when its config names none (`sweepGroups`). */
const DEFAULT_GROUPS: number = stackConfigSchema.shape.sweepGroups.parse(undefined);
/** lib/constructs/archiver-functions.ts gives the sweeper 1024 MB; Lambda gives 1 vCPU at 1,769 MB (AWS docs). */
const SWEEPER_MEMORY_MB = 1024;
const LAMBDA_MB_PER_VCPU = 1769;
/** Leaves out the backlog's first and last tenth: the groups' start and the tail of their last round. */
const STEADY = { from: 0.1, to: 0.9 };

const endpointName = (i: number) => `fleet${i}`;
const endpointId = (i: number) => `fleet-endpoint-${i}`;
const ENDPOINT_INDEXES = Array.from({ length: ENDPOINTS }, (_, i) => i);

/** A group's share of the sweeper's status limits per endpoint, as ArchiverFunctions shares them out. */
const share = (limit: number, groups: number) => Math.max(1, Math.floor(limit / groups));

/** The sweeper's environment for one group count: every endpoint, the group's share of the status limits. */
function fleetEnv(ctx: BenchContext, table: string, emulator: EmulatorProcess, groups: number) {
  const names = ENDPOINT_INDEXES.map(endpointName);
  return runtimeEnv(
    ctx.stores,
    table,
    { baseUrl: emulator.baseUrlFor(endpointId(0)), apiKey: emulator.apiKey },
    {
      UPSTREAM_ENDPOINTS: JSON.stringify(
        Object.fromEntries(ENDPOINT_INDEXES.map((i) => [names[i], emulator.baseUrlFor(endpointId(i))])),
      ),
      UPSTREAM_API_KEYS: JSON.stringify(Object.fromEntries(names.map((n) => [n, emulator.apiKey]))),
      SWEEP_GROUPS: String(groups),
      STATUS_RATE_PER_10S: String(share(SWEEPER_STATUS_LIMITS.ratePer10s, groups)),
      STATUS_CONCURRENCY: String(share(SWEEPER_STATUS_LIMITS.concurrency, groups)),
    },
  );
}

/** One group's container: its own SDK clients, upstream client and limiter, as a Lambda container has. */
interface Container {
  group: string;
  runtime: BuiltRuntime;
  destroy(): void;
}

interface Counters {
  dynamo: DynamoCounter;
  s3: S3Counter;
}

function container(
  ctx: BenchContext,
  env: Record<string, string>,
  group: string,
  onArchived: () => void,
  counters?: Counters,
): Container {
  const dynamo = ctx.stores.dynamoClient();
  const s3 = ctx.stores.s3Client();
  counters?.dynamo.attach(dynamo);
  counters?.s3.attach(s3);
  const runtime = createRuntime(env, {
    dynamo,
    s3,
    onEvent: (type) => {
      if (type === 'Job Archived') onArchived();
    },
  });
  return {
    group,
    runtime,
    destroy: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

/** One scheduled invocation of a group as the sweeper Lambda makes it: its lease, its shards, its budget. */
function invoke(c: Container): Promise<InvocationSummary> {
  const started = Date.now();
  const budgetMs = SWEEPER_TIMEOUT.toMilliseconds();
  return sweepInvocation(c.runtime, c.runtime.sweepLease, {
    group: c.group,
    remainingMs: () => budgetMs - (Date.now() - started),
  });
}

interface UpstreamJob {
  endpoint: string;
  upstreamId: string;
}

/** `count` jobs finished upstream, spread evenly over the endpoints; none names a webhook, so all are lost. */
async function finishedUpstream(emulator: EmulatorProcess, count: number): Promise<UpstreamJob[]> {
  const before = (await emulator.stats()).jobs.completed;
  const body = { input: { prompt: 'webhook lost', durationMs: 0 } };
  const perEndpoint = await Promise.all(
    ENDPOINT_INDEXES.map(async (i) => {
      const n = Math.floor(count / ENDPOINTS) + (i < count % ENDPOINTS ? 1 : 0);
      const ids = await submitUpstream(emulator, endpointId(i), Array(n).fill(body), 8);
      return ids.map((upstreamId) => ({ endpoint: endpointName(i), upstreamId }));
    }),
  );
  await waitUntil(
    async () => (await emulator.stats()).jobs.completed >= before + count,
    60_000,
    'upstream jobs to finish',
    50,
  );
  // Interleaved, so the oldest-first order of the due index mixes the endpoints as live traffic would.
  const longest = Math.max(...perEndpoint.map((jobs) => jobs.length));
  return Array.from({ length: longest }, (_, k) => perEndpoint.flatMap((jobs) => jobs[k] ?? [])).flat();
}

/** One PENDING job per upstream job, all due, oldest first over the last two minutes. */
async function seedPending(
  ctx: BenchContext,
  table: string,
  upstream: readonly UpstreamJob[],
  shards: number,
): Promise<string[]> {
  const start = Date.now() - 120_000;
  const step = 60_000 / Math.max(1, upstream.length);
  const jobs = upstream.map((u, i) =>
    pendingJob(u.upstreamId, Math.floor(start + i * step), { endpoint: u.endpoint }),
  );
  const db = ctx.stores.dynamoClient();
  try {
    await seedJobs(db, table, jobs, shards);
  } finally {
    db.destroy();
  }
  return jobs.map((j) => j.jobId);
}

/** Captures per second between the backlog's first and last tenth. */
function steadyRate(captureTimes: readonly number[]): number {
  const sorted = [...captureTimes].sort((a, b) => a - b);
  const from = Math.floor(sorted.length * STEADY.from);
  const to = Math.ceil(sorted.length * STEADY.to) - 1;
  const seconds = ((sorted[to] ?? 0) - (sorted[from] ?? 0)) / 1000;
  return seconds > 0 ? (to - from) / seconds : Number.NaN;
}

interface CpuPerLook {
  /** The process every group runs in: sweep passes, SDK clients, upstream client, capture. */
  sweepers: number;
  /** dynalite and s3rver, in their own process. */
  stores: number;
  /** The emulator answering /status, in its own process. */
  emulator: number;
}

interface FleetRun {
  groups: number;
  jobs: number;
  wallMs: number;
  steadyPerS: number;
  wallPerS: number;
  /** /status requests the emulator answered. */
  looks: number;
  tooManyRequests: number;
  archived: number;
  cpuMsPerLook: CpuPerLook;
  /** Share of the run the sweepers' event loop was busy: near 1, that one thread is what binds. */
  eventLoopUtilization: number;
  invocations: Pick<InvocationSummary, 'group' | 'leaseHeld' | 'passes' | 'archived'>[];
  config: Config;
}

async function cpuNow(ctx: BenchContext, emulator: EmulatorProcess) {
  const own = process.cpuUsage();
  return {
    sweepers: (own.user + own.system) / 1000,
    stores: await ctx.stores.cpuMs(),
    emulator: await emulator.cpuMs(),
  };
}

let tables = 0;

/** Seeds `jobs` lost-webhook jobs on a fresh table and sweeps them with `groups` invocations at once. */
async function fleetRun(
  ctx: BenchContext,
  emulator: EmulatorProcess,
  groups: number,
  jobs: number,
  counters?: Counters,
): Promise<FleetRun> {
  const table = await ctx.stores.createTable(`sweep-groups-${tables++}`);
  const captureTimes: number[] = [];
  const env = fleetEnv(ctx, table, emulator, groups);
  const containers = sweepGroupNames(groups).map((group) =>
    container(ctx, env, group, () => captureTimes.push(nowMs()), counters),
  );
  const { config, jobs: repository } = (containers[0] as Container).runtime;
  try {
    const jobIds = await seedPending(ctx, table, await finishedUpstream(emulator, jobs), config.DUE_SHARDS);
    await emulator.resetStats();
    const cpuBefore = await cpuNow(ctx, emulator);
    const loopBefore = performance.eventLoopUtilization();
    const started = nowMs();
    const invocations = await Promise.all(containers.map(invoke));
    const wallMs = nowMs() - started;
    const loop = performance.eventLoopUtilization(loopBefore);
    const cpuAfter = await cpuNow(ctx, emulator);
    const stats = await emulator.stats();
    const looks = stats.requests.status ?? 0;
    const perLook = (key: keyof CpuPerLook) => (cpuAfter[key] - cpuBefore[key]) / Math.max(1, looks);
    const states = await runPool(jobIds, 32, async (id) => (await repository.get(id))?.state);
    return {
      groups,
      jobs,
      wallMs,
      steadyPerS: steadyRate(captureTimes),
      wallPerS: captureTimes.length / (wallMs / 1000),
      looks,
      tooManyRequests: stats.tooManyRequests,
      archived: states.filter((s) => s === 'ARCHIVED').length,
      cpuMsPerLook: {
        sweepers: perLook('sweepers'),
        stores: perLook('stores'),
        emulator: perLook('emulator'),
      },
      eventLoopUtilization: loop.utilization,
      invocations: invocations.map(({ group, leaseHeld, passes, archived }) => ({
        group,
        leaseHeld,
        passes,
        archived,
      })),
      config,
    };
  } finally {
    for (const c of containers) c.destroy();
    await ctx.stores.deleteTable(table);
  }
}

/** Requests one capture by the sweeper makes besides its /status (the due queries are per round, not per look). */
interface LookRequests {
  dynamo: number;
  s3Puts: number;
}

function lookRequests(counters: Counters, looks: number): LookRequests {
  const dynamo = counters.dynamo.take().requests;
  const s3 = counters.s3.take().requests;
  const perLook = (n: number) => n / Math.max(1, looks);
  return {
    dynamo: perLook(requestTotal(dynamo) - (dynamo.QueryCommand ?? 0)),
    s3Puts: perLook((s3.PutObjectCommand ?? 0) + (s3.UploadPartCommand ?? 0)),
  };
}

/**
 * What `groups` containers would do in AWS, on paper: each bound by its 32 looks in flight at AWS latencies
 * (a round ends with its slowest wave), by its CPU at 1024 MB, or by its share of the status limiter.
 */
function containerModel(groups: number, requests: LookRequests, cpuMsPerLook: number, config: Config) {
  const shards = Math.max(
    ...sweepGroupNames(groups).map((g) => shardsOfGroup(g, groups, config.DUE_SHARDS).length),
  );
  const batch = Math.ceil(config.SWEEP_BATCH / shards) * shards;
  const waves = Math.ceil(batch / LIMITS.sweepConcurrency);
  // Sequential within a look, as scale-model.ts bills them: /status, then the capture's writes.
  const lookMs =
    AWS_LATENCY_MS.upstream +
    requests.dynamo * AWS_LATENCY_MS.dynamo +
    requests.s3Puts * AWS_LATENCY_MS.s3Put;
  const bounds = {
    inFlight: batch / ((AWS_LATENCY_MS.dynamo + waves * lookMs) / 1000),
    cpu: ((SWEEPER_MEMORY_MB / LAMBDA_MB_PER_VCPU) * 1000) / cpuMsPerLook,
    limiter: (share(SWEEPER_STATUS_LIMITS.ratePer10s, groups) / 10) * ENDPOINTS,
  };
  const [binds, perContainer] = Object.entries(bounds).reduce((a, b) => (b[1] < a[1] ? b : a));
  return { groups, batch, waves, lookMs, bounds, binds, perContainer, fleet: groups * perContainer };
}

/** Looks/s local mode can make at most, from each process's CPU per look (2 cores for all three). */
function localCeiling(cpu: CpuPerLook) {
  const bounds = {
    'the sweeper process (one event loop)': 1000 / cpu.sweepers,
    'the stores process': 1000 / cpu.stores,
    'the emulator process': 1000 / cpu.emulator,
    'both cores': 2000 / (cpu.sweepers + cpu.stores + cpu.emulator),
  };
  const [binds, value] = Object.entries(bounds).reduce((a, b) => (b[1] < a[1] ? b : a));
  return { bounds, binds, value };
}

const medianOf = (runs: readonly FleetRun[], pick: (r: FleetRun) => number) => median(runs.map(pick));
const pct = (share: number) => `${Math.round(share * 100)} %`;

export const sweepGroups: Benchmark = {
  name: 'sweep-groups',
  async run(ctx: BenchContext): Promise<Figure[]> {
    // Sized for a quick run under a minute on the shared 2-core machine while other work loads it.
    const jobs = ctx.quick ? 320 : 640;
    const rounds = ctx.quick ? 1 : 3;
    const emulator = await startEmulatorProcess({
      jobDurationMs: 0,
      startDelayMs: 0,
      queueLimitMin: 1e9,
      workers: 1000,
      // Only seeding is exempt: /run goes unlimited, status keeps the documented 2000/10 s and 400 per endpoint.
      rateLimits: { run: { limit: Number.POSITIVE_INFINITY, concurrent: Number.POSITIVE_INFINITY } },
      // /status answers as late as AWS_LATENCY_MS assumes for the real upstream, so 32 looks in flight per
      // group are spent waiting as they would be, not only on local CPU.
      faults: { latencyMs: { status: AWS_LATENCY_MS.upstream } },
    });
    try {
      // Warm-up through the same path; its counted requests are what one look costs (for the model).
      const counters: Counters = { dynamo: new DynamoCounter(), s3: new S3Counter() };
      const warm = await fleetRun(ctx, emulator, 1, 80, counters);
      const requests = lookRequests(counters, warm.looks);
      const runs: FleetRun[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternating order, so drift on a shared machine favours no group count.
        const order = round % 2 === 0 ? GROUP_COUNTS : [...GROUP_COUNTS].reverse();
        for (const groups of order) {
          const run = await fleetRun(ctx, emulator, groups, jobs);
          runs.push(run);
          ctx.log(
            `  ${groups} group(s): ${run.archived}/${run.jobs} archived in ${(run.wallMs / 1000).toFixed(1)} s, ` +
              `${run.steadyPerS.toFixed(0)}/s steady (${run.wallPerS.toFixed(0)}/s overall), ` +
              `${run.tooManyRequests} × 429, event loop ${pct(run.eventLoopUtilization)} busy, ` +
              `${run.cpuMsPerLook.sweepers.toFixed(2)} ms CPU per look`,
          );
        }
      }
      return figures(ctx, runs, requests, jobs);
    } finally {
      await emulator.stop();
    }
  },
};

function figures(ctx: BenchContext, runs: FleetRun[], requests: LookRequests, jobs: number): Figure[] {
  const of = (g: number) => runs.filter((r) => r.groups === g);
  const steady = (g: number) => medianOf(of(g), (r) => r.steadyPerS);
  const cpu: CpuPerLook = {
    sweepers: medianOf(runs, (r) => r.cpuMsPerLook.sweepers),
    stores: medianOf(runs, (r) => r.cpuMsPerLook.stores),
    emulator: medianOf(runs, (r) => r.cpuMsPerLook.emulator),
  };
  const ceiling = localCeiling(cpu);
  const config = (runs[0] as FleetRun).config;
  const models = MODEL_GROUP_COUNTS.map((g) => containerModel(g, requests, cpu.sweepers, config));
  const looks = sum(runs.map((r) => r.looks));
  ctx.detail('sweepGroups', {
    endpoints: ENDPOINTS,
    jobsPerRun: jobs,
    statusLatencyMs: AWS_LATENCY_MS.upstream,
    runs: runs.map(({ config: _config, ...run }) => run),
    requestsPerLook: requests,
    cpuMsPerLook: cpu,
    localCeiling: ceiling,
    model: models,
  });
  const groupLabel = (g: number) =>
    `${g} sweep group${g === 1 ? '' : 's'}${g === DEFAULT_GROUPS ? ' (default)' : ''}`;
  const captured = GROUP_COUNTS.map((g) =>
    figure({
      item: 2,
      key: `sweepGroups.captured.g${g}`,
      label: `lost-webhook jobs captured/s over ${ENDPOINTS} endpoints, ${groupLabel(g)}, measured locally`,
      value: steady(g),
      unit: '/s',
      runs: of(g).map((r) => r.steadyPerS),
      ...(g === 1
        ? {}
        : {
            baseline: { label: '1 group, same run', value: steady(1), unit: '/s' },
            goal: { on: 'value' as const, op: '>=' as const, target: TARGET_LOOKS_PER_S },
          }),
      note:
        `${jobs} due jobs; every group an invocation with its own runtime, all in one process on 2 shared cores ` +
        `(event loop ${pct(medianOf(of(g), (r) => r.eventLoopUtilization))} busy); status limiter ` +
        `${share(SWEEPER_STATUS_LIMITS.ratePer10s, g)}/10 s per endpoint per group; /status held ` +
        `${AWS_LATENCY_MS.upstream} ms; the backlog's middle 80 %${g === 1 ? '' : `; ${GOAL_TEXT}`}`,
    }),
  );
  const model = models
    .filter((m) => m.groups !== 1)
    .map((m) =>
      figure({
        item: 2,
        key: `sweepGroups.model.g${m.groups}`,
        label: `MODEL, not measured: looks/s of ${groupLabel(m.groups)} in separate containers`,
        value: m.fleet,
        unit: '/s',
        baseline: { label: 'looks/s the goal needs', value: TARGET_LOOKS_PER_S, unit: '/s' },
        note:
          `per container ${m.perContainer.toFixed(0)}/s, bound by ${m.binds}: ${LIMITS.sweepConcurrency} in ` +
          `flight over rounds of ${m.batch} (${m.waves} waves of ${m.lookMs.toFixed(0)} ms: /status ` +
          `${AWS_LATENCY_MS.upstream} ms + ${requests.dynamo.toFixed(1)} DynamoDB × ${AWS_LATENCY_MS.dynamo} ms + ` +
          `${requests.s3Puts.toFixed(1)} PUT × ${AWS_LATENCY_MS.s3Put} ms) ${m.bounds.inFlight.toFixed(0)}/s; CPU ` +
          `${m.bounds.cpu.toFixed(0)}/s (this run's CPU per look at ${SWEEPER_MEMORY_MB} MB = ` +
          `${(SWEEPER_MEMORY_MB / LAMBDA_MB_PER_VCPU).toFixed(2)} vCPU); limiter ${m.bounds.limiter.toFixed(0)}/s`,
      }),
    );
  return [
    ...captured,
    figure({
      item: 2,
      key: 'sweepGroups.429s',
      label: '429s received by the sweep groups, every run',
      value: sum(runs.map((r) => r.tooManyRequests)),
      unit: '',
      baseline: { label: 'status polls', value: looks, unit: '' },
      goal: { on: 'value', op: '<=', target: 0 },
      note: `documented limit ${DOCUMENTED_RATE_LIMITS.status.limit}/10 s per endpoint, shared out among the groups`,
    }),
    figure({
      item: 2,
      key: 'sweepGroups.archived',
      label: 'seeded jobs ARCHIVED after the invocations, every run',
      value: sum(runs.map((r) => r.archived)),
      unit: 'jobs',
      baseline: { label: 'jobs seeded', value: sum(runs.map((r) => r.jobs)), unit: 'jobs' },
      goal: { on: 'ratio', op: '>=', target: 1 },
    }),
    figure({
      item: 2,
      key: 'sweepGroups.cpuPerLook',
      label: 'CPU per look of the sweeper process (user + system)',
      value: cpu.sweepers,
      unit: 'ms',
      runs: runs.map((r) => r.cpuMsPerLook.sweepers),
      note: `besides: stores ${cpu.stores.toFixed(2)} ms, emulator ${cpu.emulator.toFixed(2)} ms per look, each in its own process`,
    }),
    figure({
      item: 2,
      key: 'sweepGroups.localCeiling',
      label: 'CPU-bound ceiling of local mode, looks/s',
      value: ceiling.value,
      unit: '/s',
      baseline: { label: 'looks/s the goal needs', value: TARGET_LOOKS_PER_S, unit: '/s' },
      note: `bound by ${ceiling.binds}: 1000 ms / CPU per look of each process, 2000 for all three on 2 cores`,
    }),
    ...model,
  ];
}
