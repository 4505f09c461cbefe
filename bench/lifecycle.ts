// Items 3, 6 and the per-job counts of 7: jobs through the whole local system, time scaled 1:120.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoJobRepository } from '../functions/adapters/dynamo-job-repository.ts';
import type { Job } from '../functions/core/job.ts';
import { statesLeadingTo } from '../functions/core/job-state.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../local/emulator/index.ts';
import { LOCAL_ENDPOINT_ID } from '../local/stack.ts';
import { captureLatencyFigures } from './capture-latency.ts';
import { scaleModelFigures } from './scale-model.ts';
import { type BenchStack, startBenchStack } from './support/bench-stack.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { type DynamoCounts, type S3Counts, sumDynamo, sumS3 } from './support/counting.ts';
import { statusRequests } from './support/emulator-jobs.ts';
import type { Figure } from './support/figures.ts';
import { type SdkCapture, sdkCapture } from './support/sdk-poller.ts';
import { pendingJob, seedJobs } from './support/seed.ts';
import { median } from './support/stats.ts';
import { nowMs, sleep, waitUntil } from './support/timing.ts';
import { upstreamCallFigures } from './upstream-calls.ts';

/** One real minute passes in 500 ms: the archiver's schedule, job durations and rate limits all scale. */
export const TIME_SCALE = 120;
export const scaled = (realMs: number): number => Math.max(1, Math.round(realMs / TIME_SCALE));

export const WORKLOADS = {
  /** Typical serverless inference: done before the sweeper's first look (2 min). */
  short: { fromMs: 5_000, toMs: 90_000 },
  /** Long jobs (video, batch): still running at the first look, some at the second. */
  long: { fromMs: 150_000, toMs: 480_000 },
} as const;
export type Workload = keyof typeof WORKLOADS;
/** `probe`: webhook-path jobs submitted one at a time after a run, for latency without the run's load. */
export type Path = 'ok' | 'lost' | 'sdk' | 'probe';

/** The AWS defaults (config.ts), scaled. */
const ARCHIVER_CONFIG: Record<string, string> = {
  // The defaults of the safe rule (core/schedule.ts): retention (30 min) less the margin (5 min).
  FIRST_LOOK_MS: String(scaled(1_500_000)),
  LOOK_INTERVAL_MS: String(scaled(1_500_000)),
  NOT_FOUND_GRACE_MS: String(scaled(60_000)),
  SWEEP_SAFETY_MS: String(scaled(10_000)),
  // One invocation a minute that sweeps on while jobs come due within it (sweep-invocation.ts).
  SWEEP_INVOCATION_MS: String(scaled(50_000)),
  SWEEP_REPEAT_MS: String(scaled(3000)),
  SWEEP_LEASE_MS: String(scaled(20_000)),
  DEFAULT_ENDPOINT: 'short-ok',
};

/** Before the invocation swept on: one pass per scheduled tick (what SWEEP_INVOCATION_MS=0 still does). */
const SINGLE_PASS: Record<string, string> = { SWEEP_INVOCATION_MS: '0' };
/** EventBridge runs the sweeper every minute. */
export const SWEEP_INTERVAL_MS = scaled(60_000);

/** RunPod's advice is "polling with backoff": first after 1 s, ×1.5 per poll, at most every 10 s. */
const SDK_SCHEDULE = { firstMs: scaled(1000), factor: 1.5, maxMs: scaled(10_000) };

const emulatorOptions = (seed: number, lost: boolean): EmulatorOptions => ({
  seed,
  workers: 512,
  startDelayMs: 0,
  rateLimitScale: TIME_SCALE,
  webhookRetryDelayMs: scaled(10_000),
  ...(lost && { faults: { webhookDrop: 1 } }),
});

/** One job as observed: who captured it, when it finished upstream and when it was archived. */
export interface Observed {
  run: number;
  workload: Workload;
  path: Path;
  durationMs: number;
  finishedAt: number;
  capturedAt: number;
  captureSource?: string;
  submitMs?: number;
  jobId?: string;
}

/** Per-job averages of one workload and path, over every run. */
export interface PathCounts {
  jobs: number;
  statusCallsPerJob: number;
  runCallsPerJob: number;
  webhookPostsPerJob: number;
  dynamo: DynamoCounts;
  s3: S3Counts;
}

export interface LifecycleResult {
  observed: Observed[];
  /** Per run, per `${workload}-${path}`: status calls per job (ground truth: the emulator's counters). */
  statusPerJob: Record<string, number[]>;
  counts: Record<string, PathCounts>;
  /** Sweeper due-index queries per run (shared by every job), and the run's length. */
  sweeperQueries: number[];
  runMs: number[];
  /** Raw S3 put + DynamoDB update, sequential, same clients: the floor of any capture's latency. */
  rawStorageMs: number[];
  runs: number;
}

interface Upstreams {
  ok: Record<Workload, Emulator>;
  lost: Record<Workload, Emulator>;
  sdk: Record<Workload, Emulator>;
}

async function startUpstreams(): Promise<Upstreams> {
  const pair = async (seed: number, lost: boolean) => ({
    short: await startEmulator(emulatorOptions(seed, lost)),
    long: await startEmulator(emulatorOptions(seed + 1, lost)),
  });
  return { ok: await pair(1, false), lost: await pair(3, true), sdk: await pair(5, false) };
}

const allEmulators = (u: Upstreams) => [u.ok, u.lost, u.sdk].flatMap((p) => [p.short, p.long]);

function durations(workload: Workload, count: number): number[] {
  const { fromMs, toMs } = WORKLOADS[workload];
  return Array.from({ length: count }, (_, i) => fromMs + ((toMs - fromMs) * (i + 0.5)) / count);
}

async function submitToArchiver(bench: BenchStack, endpoint: string, durationMs: number) {
  const started = nowMs();
  const response = await fetch(`${bench.stack.url}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      endpoint,
      input: { prompt: 'a lighthouse at dawn', durationMs: scaled(durationMs) },
    }),
  });
  const answer = (await response.json()) as { job?: Job };
  if (response.status !== 202 || !answer.job) {
    throw new Error(`POST /jobs answered ${response.status}: ${JSON.stringify(answer)}`);
  }
  return { job: answer.job, submitMs: nowMs() - started };
}

/** Short jobs to the webhook path, one submitted every 40 ms: completion → ARCHIVED without a crowd. */
async function latencyProbe(
  bench: BenchStack,
  emulator: Emulator,
  reader: DynamoJobRepository,
  count: number,
  run: number,
): Promise<Observed[]> {
  const submitted: { job: Job; durationMs: number }[] = [];
  for (const durationMs of durations('short', count)) {
    submitted.push({ job: (await submitToArchiver(bench, 'short-ok', durationMs)).job, durationMs });
    await sleep(40);
  }
  const done = new Map<string, Job>();
  await waitUntil(
    async () => {
      for (const { job } of submitted) {
        const current = done.has(job.jobId) ? undefined : await reader.get(job.jobId);
        if (current?.state === 'ARCHIVED') done.set(job.jobId, current);
      }
      return done.size === submitted.length;
    },
    60_000,
    'latency probe jobs to be archived',
    25,
  );
  return submitted.map(({ job, durationMs }) => {
    const final = done.get(job.jobId);
    return {
      run,
      workload: 'short',
      path: 'probe',
      durationMs,
      finishedAt: emulator.jobs.get(final?.upstreamId ?? '')?.finishedAt ?? Number.NaN,
      capturedAt: final?.archivedAt ? Date.parse(final.archivedAt) : Number.NaN,
      ...(final?.captureSource && { captureSource: final.captureSource }),
    };
  });
}

/** Sequential raw captures (one S3 put, one conditional update), the floor under any capture's latency. */
async function rawStorageLatency(bench: BenchStack, samples: number): Promise<number[]> {
  const { config } = bench.runtime;
  const jobs = Array.from({ length: samples }, (_, i) =>
    pendingJob(`raw-${Date.now()}-${i}`, Date.now() + 3_600_000),
  );
  await seedJobs(bench.dynamo, config.JOBS_TABLE, jobs, config.DUE_SHARDS);
  const repository = new DynamoJobRepository({
    client: bench.dynamo,
    tableName: config.JOBS_TABLE,
    dueShards: config.DUE_SHARDS,
  });
  const body = Buffer.alloc(2300, 0x61);
  const out: number[] = [];
  for (const job of jobs) {
    const started = nowMs();
    await bench.s3.send(
      new PutObjectCommand({
        Bucket: config.ARCHIVE_BUCKET,
        Key: `bench/raw/${job.jobId}/result.json`,
        Body: body,
        ContentLength: body.length,
      }),
    );
    await repository.apply(job.jobId, {
      name: 'ceiling',
      patch: { state: 'ARCHIVED', archivedAt: new Date().toISOString(), dueAt: null },
      condition: { states: statesLeadingTo('ARCHIVED') },
    });
    out.push(nowMs() - started);
  }
  return out;
}

async function oneRun(
  ctx: BenchContext,
  bench: BenchStack,
  upstreams: Upstreams,
  reader: DynamoJobRepository,
  perRun: Record<Workload, number>,
  run: number,
) {
  for (const emulator of allEmulators(upstreams)) emulator.resetStats();
  bench.dynamoCounter.take();
  bench.s3Counter.take();
  const started = nowMs();
  const archiverJobs: {
    workload: Workload;
    path: 'ok' | 'lost';
    durationMs: number;
    job: Job;
    submitMs: number;
  }[] = [];
  const sdkRuns: Promise<Observed>[] = [];
  const submits: Promise<void>[] = [];
  // What a lost job cost when its POST /jobs returned: the submit alone (its first look is 2 min away).
  const submitOnly: { dynamo: DynamoCounts | undefined; s3: S3Counts | undefined }[] = [];
  for (const workload of Object.keys(WORKLOADS) as Workload[]) {
    for (const durationMs of durations(workload, perRun[workload])) {
      for (const path of ['ok', 'lost'] as const) {
        submits.push(
          submitToArchiver(bench, `${workload}-${path}`, durationMs).then(({ job, submitMs }) => {
            archiverJobs.push({ workload, path, durationMs, job, submitMs });
            if (path === 'lost') {
              submitOnly.push({
                dynamo: structuredClone(bench.dynamoCounter.byJob.get(job.jobId)),
                s3: structuredClone(bench.s3Counter.byJob.get(job.jobId)),
              });
            }
          }),
        );
      }
      const sdkEmulator = upstreams.sdk[workload];
      const input = { prompt: 'a lighthouse at dawn', durationMs: scaled(durationMs) };
      const sdkRun = sdkCapture(sdkEmulator, LOCAL_ENDPOINT_ID, input, SDK_SCHEDULE).then(
        (c: SdkCapture) => ({
          run,
          workload,
          path: 'sdk' as const,
          durationMs,
          finishedAt: sdkEmulator.jobs.get(c.upstreamId)?.finishedAt ?? Number.NaN,
          capturedAt: c.capturedAt,
        }),
      );
      // A failure is this benchmark's error at the Promise.all below, not an unhandled rejection ending them all.
      sdkRun.catch(() => undefined);
      sdkRuns.push(sdkRun);
    }
  }
  await Promise.all(submits);
  const archived = new Map<string, Job>();
  await waitUntil(
    async () => {
      for (const { job } of archiverJobs) {
        if (archived.has(job.jobId)) continue;
        const current = await reader.get(job.jobId);
        if (current && current.state !== 'PENDING' && current.state !== 'SUBMITTING')
          archived.set(job.jobId, current);
      }
      return archived.size === archiverJobs.length;
    },
    120_000,
    'every job to be archived',
    50,
  );
  const sdkObserved = await Promise.all(sdkRuns);
  const runMs = nowMs() - started;
  if (process.env.BENCH_DEBUG) {
    for (const { workload, path, job, durationMs } of archiverJobs) {
      if (path !== 'ok') continue;
      const events = await reader.listEvents(job.jobId);
      const polled = events.filter((e) => e.type === 'status.polled' || e.type === 'webhook.unusable');
      if (polled.length)
        console.log(
          workload,
          durationMs,
          JSON.stringify(events.map((e) => [e.type, e.at.slice(17), e.detail])),
        );
    }
  }
  // Let late duplicates and the sweeper's next pass land before counting.
  await sleep(SWEEP_INTERVAL_MS * 2);

  const observed: Observed[] = [...sdkObserved];
  for (const { workload, path, durationMs, job, submitMs } of archiverJobs) {
    const final = archived.get(job.jobId);
    const upstream = upstreams[path][workload].jobs.get(final?.upstreamId ?? '');
    observed.push({
      run,
      workload,
      path,
      durationMs,
      finishedAt: upstream?.finishedAt ?? Number.NaN,
      capturedAt: final?.archivedAt ? Date.parse(final.archivedAt) : Number.NaN,
      ...(final?.captureSource && { captureSource: final.captureSource }),
      submitMs,
      jobId: job.jobId,
    });
  }
  const statusPerJob: Record<string, number> = {};
  for (const [key, looks] of await sweeperLooksByPath(reader, archiverJobs))
    statusPerJob[`${key}-looks`] = looks / (perRun[key.split('-')[0] as Workload] ?? 1);
  const counts: Record<string, PathCounts> = {};
  const dynamoByJob = new Map(bench.dynamoCounter.byJob);
  const s3ByJob = new Map(bench.s3Counter.byJob);
  const shared = bench.dynamoCounter.take();
  bench.s3Counter.take();
  for (const workload of Object.keys(WORKLOADS) as Workload[]) {
    for (const path of ['ok', 'lost', 'sdk'] as const) {
      const emulator = upstreams[path][workload];
      const jobs = perRun[workload];
      statusPerJob[`${workload}-${path}`] = statusRequests(emulator) / jobs;
      const ids = archiverJobs
        .filter((j) => j.workload === workload && j.path === path)
        .map((j) => j.job.jobId);
      counts[`${workload}-${path}`] = {
        jobs,
        statusCallsPerJob: statusRequests(emulator) / jobs,
        runCallsPerJob: (emulator.stats.requests.run ?? 0) / jobs,
        webhookPostsPerJob: emulator.stats.webhooks.sent / jobs,
        dynamo: sumDynamo(ids.flatMap((id) => dynamoByJob.get(id) ?? [])),
        s3: sumS3(ids.flatMap((id) => s3ByJob.get(id) ?? [])),
      };
    }
  }
  ctx.log(
    `  run: ${archiverJobs.length} archiver jobs + ${sdkObserved.length} SDK jobs in ${(runMs / 1000).toFixed(1)} s; ` +
      `status/job ${Object.entries(statusPerJob)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
  );
  const submitCounts: PathCounts = {
    jobs: submitOnly.length,
    statusCallsPerJob: 0,
    runCallsPerJob: 1,
    webhookPostsPerJob: 0,
    dynamo: sumDynamo(submitOnly.flatMap((c) => (c.dynamo ? [c.dynamo] : []))),
    s3: sumS3(submitOnly.flatMap((c) => (c.s3 ? [c.s3] : []))),
  };
  counts.submit = submitCounts;
  observed.push(...(await latencyProbe(bench, upstreams.ok.short, reader, perRun.short, run)));
  return { observed, statusPerJob, counts, sweeperQueries: shared.requests.QueryCommand ?? 0, runMs };
}

/** Adds per-job counts of several runs into per-job averages. */
function average(runs: Record<string, PathCounts>[]): Record<string, PathCounts> {
  const out: Record<string, PathCounts> = {};
  for (const key of Object.keys(runs[0] ?? {})) {
    const parts = runs.flatMap((r) => (r[key] ? [r[key]] : []));
    const jobs = parts.reduce((n, p) => n + p.jobs, 0);
    const per = (v: number) => v / jobs;
    const dynamo = sumDynamo(parts.map((p) => p.dynamo));
    const s3 = sumS3(parts.map((p) => p.s3));
    out[key] = {
      jobs,
      statusCallsPerJob: per(parts.reduce((n, p) => n + p.statusCallsPerJob * p.jobs, 0)),
      runCallsPerJob: per(parts.reduce((n, p) => n + p.runCallsPerJob * p.jobs, 0)),
      webhookPostsPerJob: per(parts.reduce((n, p) => n + p.webhookPostsPerJob * p.jobs, 0)),
      dynamo: {
        requests: Object.fromEntries(Object.entries(dynamo.requests).map(([k, v]) => [k, per(v)])),
        itemsRead: per(dynamo.itemsRead),
        scans: per(dynamo.scans),
        readUnits: per(dynamo.readUnits),
        writeUnits: per(dynamo.writeUnits),
        writeUnitsByTarget: Object.fromEntries(
          Object.entries(dynamo.writeUnitsByTarget).map(([k, v]) => [k, per(v)]),
        ),
        stored: {
          jobItemBytes: per(dynamo.stored.jobItemBytes),
          otherItemBytes: per(dynamo.stored.otherItemBytes),
          otherItems: per(dynamo.stored.otherItems),
        },
      },
      s3: {
        requests: Object.fromEntries(Object.entries(s3.requests).map(([k, v]) => [k, per(v)])),
        bytesUploaded: per(s3.bytesUploaded),
      },
    };
  }
  return out;
}

export const lifecycle = lifecycleBenchmark('lifecycle', {});
/** Audit lines each sweeper look at a job writes: one per look that found it running, failed, or captured it. */
const LOOK_EVENTS = new Set([
  'status.polled',
  'status.failed',
  'archived',
  'capture.duplicate',
  'capture.concurrent',
  'expired',
]);

/**
 * The sweeper's /status looks per `${workload}-${path}`, read from each job's audit trail, apart from the
 * webhook's confirming call (the emulator counts both). An archive the sweeper only announced for a dead
 * capture (`recovered`) made no look.
 */
async function sweeperLooksByPath(
  reader: DynamoJobRepository,
  jobs: readonly { workload: Workload; path: 'ok' | 'lost'; job: Job }[],
): Promise<Map<string, number>> {
  const looks = new Map<string, number>();
  for (const { workload, path, job } of jobs) {
    const events = await reader.listEvents(job.jobId);
    const mine = events.filter(
      (e) => e.source === 'sweeper' && LOOK_EVENTS.has(e.type) && !e.detail?.recovered,
    ).length;
    looks.set(`${workload}-${path}`, (looks.get(`${workload}-${path}`) ?? 0) + mine);
  }
  return looks;
}

/** The same jobs with the sweeper as it was (one pass per tick): the "before" of item 6's sweeper latency. */
export const lifecycleSinglePass = lifecycleBenchmark('lifecycle-single-pass', SINGLE_PASS);

function lifecycleBenchmark(name: string, variant: Record<string, string>): Benchmark {
  const singlePass = variant === SINGLE_PASS;
  return { name, run: (ctx) => runLifecycle(ctx, variant, singlePass) };
}

async function runLifecycle(
  ctx: BenchContext,
  variant: Record<string, string>,
  singlePass: boolean,
): Promise<Figure[]> {
  const upstreams = await startUpstreams();
  // Each variant its own table: the last one's is being deleted.
  const table = await ctx.stores.createTable(singlePass ? 'lifecycle-single-pass' : 'lifecycle');
  const endpoints: Record<string, string> = {};
  const keys: Record<string, string> = {};
  for (const workload of Object.keys(WORKLOADS) as Workload[]) {
    for (const path of ['ok', 'lost'] as const) {
      endpoints[`${workload}-${path}`] = upstreams[path][workload].baseUrlFor(LOCAL_ENDPOINT_ID);
      keys[`${workload}-${path}`] = upstreams[path][workload].apiKey;
    }
  }
  const bench = await startBenchStack(ctx.stores, {
    upstream: { baseUrl: endpoints['short-ok'] ?? '', apiKey: upstreams.ok.short.apiKey },
    sweepIntervalMs: SWEEP_INTERVAL_MS,
    config: {
      ...ARCHIVER_CONFIG,
      ...variant,
      JOBS_TABLE: table,
      UPSTREAM_ENDPOINTS: JSON.stringify(endpoints),
      UPSTREAM_API_KEYS: JSON.stringify(keys),
    },
  });
  const readerClient = ctx.stores.dynamoClient();
  const reader = new DynamoJobRepository({ client: readerClient, tableName: table, dueShards: 8 });
  const perRun: Record<Workload, number> = ctx.quick ? { short: 12, long: 4 } : { short: 30, long: 10 };
  try {
    const result: LifecycleResult = {
      observed: [],
      statusPerJob: {},
      counts: {},
      sweeperQueries: [],
      runMs: [],
      rawStorageMs: [],
      runs: ctx.runs,
    };
    const countRuns: Record<string, PathCounts>[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const r = await oneRun(ctx, bench, upstreams, reader, perRun, run);
      result.observed.push(...r.observed);
      for (const [key, value] of Object.entries(r.statusPerJob)) {
        result.statusPerJob[key] = [...(result.statusPerJob[key] ?? []), value];
      }
      countRuns.push(r.counts);
      result.sweeperQueries.push(r.sweeperQueries);
      result.runMs.push(r.runMs);
      result.rawStorageMs.push(median(await rawStorageLatency(bench, 15)));
    }
    result.counts = average(countRuns);
    if (singlePass) return captureLatencyFigures(result, 'single-pass');
    ctx.detail('lifecycle', {
      timeScale: TIME_SCALE,
      workloads: WORKLOADS,
      jobsPerRun: perRun,
      sdkSchedule: SDK_SCHEDULE,
      statusPerJob: result.statusPerJob,
      perJob: result.counts,
      sweeperQueriesPerRun: result.sweeperQueries,
      runMs: result.runMs.map(Math.round),
    });
    return [
      ...upstreamCallFigures(result),
      ...captureLatencyFigures(result),
      ...scaleModelFigures(ctx, result),
    ];
  } finally {
    readerClient.destroy();
    await bench.stop();
    for (const emulator of allEmulators(upstreams)) await emulator.stop();
    await ctx.stores.deleteTable(table);
  }
}
