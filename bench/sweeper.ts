// Item 2: the sweeper against 10,000 due jobs under the documented status limit, and against a big history.
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type SweepSummary, sweep } from '../functions/core/sweep.ts';
import { type BuiltRuntime, createRuntime } from '../functions/runtime.ts';
import { DOCUMENTED_RATE_LIMITS, type Emulator, startEmulator } from '../local/emulator/index.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { DynamoCounter, type DynamoCounts, S3Counter } from './support/counting.ts';
import { statusRequests, submitUpstream } from './support/emulator-jobs.ts';
import { type Figure, figure } from './support/figures.ts';
import { runtimeEnv } from './support/runtime-env.ts';
import { archivedJob, pendingJob, seedJobs } from './support/seed.ts';
import { median } from './support/stats.ts';
import { nowMs, waitUntil } from './support/timing.ts';

const ENDPOINT_ID = 'sweep-endpoint';
/** The documented status limit as a rate: 2000 per 10 s. */
const STATUS_LIMIT_PER_S =
  DOCUMENTED_RATE_LIMITS.status.limit / (DOCUMENTED_RATE_LIMITS.status.windowMs / 1000);
const WINDOW_MS = DOCUMENTED_RATE_LIMITS.status.windowMs;

interface Counted {
  runtime: BuiltRuntime;
  dynamoCounter: DynamoCounter;
  s3Counter: S3Counter;
  clients: { dynamo: DynamoDBDocumentClient; s3: S3Client };
}

function countedRuntime(ctx: BenchContext, env: Record<string, string>): Counted {
  const clients = { dynamo: ctx.stores.dynamoClient(), s3: ctx.stores.s3Client() };
  return {
    runtime: createRuntime(env, clients),
    dynamoCounter: new DynamoCounter().attach(clients.dynamo),
    s3Counter: new S3Counter().attach(clients.s3),
    clients,
  };
}

const destroy = (counted: Counted) => {
  counted.clients.dynamo.destroy();
  counted.clients.s3.destroy();
};

/** `count` finished jobs upstream plus, when asked, `queued` that never start (IN_QUEUE on every look). */
async function upstreamJobs(emulator: Emulator, count: number, queued = 0): Promise<string[]> {
  const body = { input: { prompt: 'sweep me', durationMs: 0 } };
  emulator.configureEndpoint(ENDPOINT_ID, { workers: 1000 });
  const target = emulator.stats.jobs.completed + count;
  const done = await submitUpstream(emulator, ENDPOINT_ID, Array(count).fill(body));
  await waitUntil(() => emulator.stats.jobs.completed >= target, 60_000, 'upstream jobs to finish');
  if (queued === 0) return done;
  emulator.configureEndpoint(ENDPOINT_ID, { workers: 0 });
  return [...done, ...(await submitUpstream(emulator, ENDPOINT_ID, Array(queued).fill(body)))];
}

/** Seeds one PENDING job per upstream id, all due, oldest first over the last two minutes. */
async function seedDue(counted: Counted, upstreamIds: readonly string[]): Promise<void> {
  const { config } = counted.runtime;
  const start = Date.now() - 120_000;
  const step = 60_000 / Math.max(1, upstreamIds.length);
  const jobs = upstreamIds.map((id, i) => pendingJob(id, Math.floor(start + i * step)));
  await seedJobs(counted.clients.dynamo, config.JOBS_TABLE, jobs, config.DUE_SHARDS);
}

interface SweepRun {
  summary: SweepSummary;
  ms: number;
  /** CPU of this process (sweeper and in-process emulator) during the pass. */
  cpuMs: number;
  dynamo: DynamoCounts;
  /** Status requests the emulator saw in each full 10 s window from the start. */
  windowRates: number[];
}

async function timedSweep(counted: Counted, emulator: Emulator): Promise<SweepRun> {
  counted.dynamoCounter.take();
  counted.s3Counter.take();
  emulator.resetStats();
  const samples: { at: number; polls: number }[] = [{ at: nowMs(), polls: 0 }];
  const sampler = setInterval(() => samples.push({ at: nowMs(), polls: statusRequests(emulator) }), 250);
  const started = nowMs();
  const cpuBefore = process.cpuUsage();
  const summary = await sweep(counted.runtime, { remainingMs: () => 900_000 });
  const ms = nowMs() - started;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const windowRates: number[] = [];
  for (let from = started; from + WINDOW_MS <= started + ms; from += WINDOW_MS) {
    const at = (t: number) => samples.filter((s) => s.at <= t).at(-1)?.polls ?? 0;
    windowRates.push((at(from + WINDOW_MS) - at(from)) / (WINDOW_MS / 1000));
  }
  return {
    summary,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    dynamo: counted.dynamoCounter.take(),
    windowRates,
  };
}

/** 10,000 due jobs (half finished, half still queued) under the documented status limit. */
async function underTheLimit(ctx: BenchContext, table: string, statusRate?: number): Promise<SweepRun> {
  const due = ctx.quick ? 2500 : 10_000;
  const emulator = await startEmulator({
    jobDurationMs: 0,
    startDelayMs: 0,
    queueLimitMin: 1e9,
    // Only seeding is exempt: /run goes unlimited, the status class keeps the documented 2000/10 s, 400.
    rateLimits: { run: { limit: Number.POSITIVE_INFINITY, concurrent: Number.POSITIVE_INFINITY } },
  });
  const env = runtimeEnv(
    ctx.stores,
    table,
    { baseUrl: emulator.baseUrlFor(ENDPOINT_ID), apiKey: emulator.apiKey },
    statusRate ? { STATUS_RATE_PER_10S: String(statusRate) } : {},
  );
  const counted = countedRuntime(ctx, env);
  try {
    const ids = await upstreamJobs(emulator, due / 2, due / 2);
    await seedDue(counted, ids);
    return await timedSweep(counted, emulator);
  } finally {
    destroy(counted);
    await emulator.stop();
  }
}

/**
 * Sweeps of a few hundred due jobs (rate limits off) on two tables, one also holding a big history of
 * archived jobs, alternating between them so drift on a shared machine favours neither.
 */
async function historyRuns(
  ctx: BenchContext,
  tables: { empty: string; history: string },
): Promise<{ before: SweepRun[]; after: SweepRun[] }> {
  const perRun = ctx.quick ? 200 : 300;
  const history = ctx.quick ? 20_000 : 100_000;
  const emulator = await startEmulator({
    jobDurationMs: 0,
    startDelayMs: 0,
    queueLimitMin: 1e9,
    rateLimitsEnabled: false,
  });
  const runtimeFor = (table: string) =>
    countedRuntime(
      ctx,
      runtimeEnv(
        ctx.stores,
        table,
        { baseUrl: emulator.baseUrlFor(ENDPOINT_ID), apiKey: emulator.apiKey },
        { STATUS_RATE_PER_10S: '1000000', STATUS_CONCURRENCY: '1000' },
      ),
    );
  const empty = runtimeFor(tables.empty);
  const full = runtimeFor(tables.history);
  const oneSweep = async (counted: Counted) => {
    await seedDue(counted, await upstreamJobs(emulator, perRun));
    return timedSweep(counted, emulator);
  };
  try {
    const t0 = nowMs();
    const day = 86_400_000;
    const jobs = Array.from({ length: history }, (_, i) =>
      archivedJob(new Date(Date.now() - 30 * day + (i / history) * 29 * day).toISOString()),
    );
    await seedJobs(full.clients.dynamo, tables.history, jobs, full.runtime.config.DUE_SHARDS, 16);
    ctx.log(`  ${history} archived jobs written in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
    await oneSweep(empty); // warm-up
    await oneSweep(full);
    const before: SweepRun[] = [];
    const after: SweepRun[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      if (run % 2 === 0) {
        before.push(await oneSweep(empty));
        after.push(await oneSweep(full));
      } else {
        after.push(await oneSweep(full));
        before.push(await oneSweep(empty));
      }
    }
    return { before, after };
  } finally {
    destroy(empty);
    destroy(full);
    await emulator.stop();
  }
}

export const sweeper: Benchmark = {
  name: 'sweeper',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const limitTable = await ctx.stores.createTable('sweeper-limit');
    const historyTable = await ctx.stores.createTable('sweeper-history');
    const emptyTable = await ctx.stores.createTable('sweeper-empty');
    try {
      const main = await underTheLimit(ctx, limitTable);
      const { summary } = main;
      const polls = summary.polled;
      const rate = polls / (main.ms / 1000);
      const queries = main.dynamo.requests.QueryCommand ?? 0;
      ctx.log(
        `  ${summary.due} due: ${polls} polls in ${(main.ms / 1000).toFixed(1)} s (${rate.toFixed(0)}/s), ` +
          `${summary.rateLimited} rate-limited, ${main.dynamo.itemsRead} items read in ${queries} queries`,
      );
      const { before, after } = await historyRuns(ctx, { empty: emptyTable, history: historyTable });
      const itemsPerSweep = (runs: SweepRun[]) => median(runs.map((r) => r.dynamo.itemsRead));
      const msPerSweep = (runs: SweepRun[]) => median(runs.map((r) => r.ms));
      const history = ctx.quick ? '20,000' : '100,000';
      ctx.detail('sweeper', {
        due: summary.due,
        summary,
        durationMs: Math.round(main.ms),
        // Upper bound on a look's CPU: the emulator answering /status runs in this process too.
        cpuMsPerPoll: main.cpuMs / Math.max(1, polls),
        windowRatesPerS: main.windowRates,
        dynamo: main.dynamo,
        history: {
          archivedJobs: history,
          before: before.map((r) => ({
            ms: Math.round(r.ms),
            itemsRead: r.dynamo.itemsRead,
            due: r.summary.due,
          })),
          after: after.map((r) => ({
            ms: Math.round(r.ms),
            itemsRead: r.dynamo.itemsRead,
            due: r.summary.due,
          })),
        },
      });
      return [
        figure({
          item: 2,
          key: 'sweeper.pollRate',
          label: `sweeper polls/s, ${summary.due} due jobs`,
          value: rate,
          unit: '/s',
          runs: main.windowRates,
          baseline: { label: 'documented status limit', value: STATUS_LIMIT_PER_S, unit: '/s' },
          goal: { on: 'ratio', op: '>=', target: 0.9 },
          note: 'polls / pass duration; runs are the rates of each full 10 s window of the pass',
        }),
        figure({
          item: 2,
          key: 'sweeper.429s',
          label: '429s received by the sweeper',
          value: summary.rateLimited,
          unit: '',
          baseline: { label: 'status polls', value: polls, unit: '' },
          goal: { on: 'value', op: '<=', target: 0 },
        }),
        figure({
          item: 2,
          key: 'sweeper.itemsRead',
          label: 'DynamoDB items read per sweep',
          value: main.dynamo.itemsRead,
          unit: 'items',
          baseline: { label: 'jobs due', value: summary.due, unit: 'jobs' },
          goal: { on: 'ratio', op: '<=', target: 1.1 },
          note: `${queries} queries`,
        }),
        figure({
          item: 2,
          key: 'sweeper.scans',
          label: 'DynamoDB scans per sweep',
          value: main.dynamo.scans,
          unit: '',
          goal: { on: 'value', op: '<=', target: 0 },
        }),
        figure({
          item: 2,
          key: 'sweeper.history.itemsRead',
          label: `items read per sweep, ${history} archived in table`,
          value: itemsPerSweep(after),
          unit: 'items',
          runs: after.map((r) => r.dynamo.itemsRead),
          baseline: { label: 'same sweep, table without them', value: itemsPerSweep(before), unit: 'items' },
          goal: { on: 'ratio', op: '<=', target: 1.1 },
        }),
        figure({
          item: 2,
          key: 'sweeper.history.duration',
          label: `sweep time, ${history} archived in table`,
          value: msPerSweep(after),
          unit: 'ms',
          runs: after.map((r) => Math.round(r.ms)),
          baseline: { label: 'same sweep, table without them', value: msPerSweep(before), unit: 'ms' },
          note: "wall time on dynalite's in-memory tree; what DynamoDB bills is the items read",
        }),
      ];
    } finally {
      await ctx.stores.deleteTable(limitTable);
      await ctx.stores.deleteTable(historyTable);
      await ctx.stores.deleteTable(emptyTable);
    }
  },
};
