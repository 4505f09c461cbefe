// Item 8: what each webhook verification policy costs: upstream status calls per job and completion → ARCHIVED.
import type { Job } from '../functions/core/job.ts';
import { type BenchStack, startBenchStack } from './support/bench-stack.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { type Figure, figure } from './support/figures.ts';
import { median, percentile } from './support/stats.ts';
import { runPool } from './support/timing.ts';

const POLICIES = ['strict', 'background', 'trust'] as const;
type Policy = (typeof POLICIES)[number];

interface RunResult {
  statusPerJob: number;
  latencyMs: number[];
  /** Jobs whose result ended verified or confirmed by /status, of all. */
  verifiedShare: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Submits `count` jobs through the API, waits for every one to be archived, then (background) lets one sweep verify. */
async function oneRun(bench: BenchStack, policy: Policy, count: number): Promise<RunResult> {
  const { stack } = bench;
  const emulator = stack.emulator;
  if (!emulator) throw new Error('the verification bench needs the emulator');
  emulator.resetStats();
  const jobIds: string[] = [];
  await runPool(
    Array.from({ length: count }, (_, i) => i),
    8,
    async (i) => {
      const res = await fetch(`${stack.url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { prompt: `verify ${policy} ${i}` } }),
      });
      const body = (await res.json()) as { job?: Job };
      if (!body.job) throw new Error(`submit answered ${res.status}`);
      jobIds.push(body.job.jobId);
    },
  );
  const archived = new Map<string, Job>();
  const stalled = Date.now() + 60_000;
  while (archived.size < jobIds.length) {
    for (const jobId of jobIds) {
      if (archived.has(jobId)) continue;
      const job = await bench.runtime.jobs.get(jobId);
      // Announced: a job awaiting verification has its look scheduled (a webhook that beat the /run answer
      // is confirmed with /status at once, under every policy, and awaits nothing).
      if (job?.state === 'ARCHIVED' && (job.verification !== 'pending' || job.verifyDueAt !== undefined))
        archived.set(jobId, job);
    }
    if (Date.now() > stalled)
      throw new Error(`${policy}: ${jobIds.length - archived.size} jobs never archived`);
    if (archived.size < jobIds.length) await pause(20);
  }
  // The sweeper's pass: under background it makes the verification looks (VERIFY_AFTER_MS is 0 here); under
  // strict and trust it finds nothing due, since every webhook arrived.
  await stack.sweeper.runNow();
  const latencyMs: number[] = [];
  let verified = 0;
  for (const jobId of jobIds) {
    const job = (await bench.runtime.jobs.get(jobId)) ?? archived.get(jobId);
    const finishedAt = emulator.jobs.get(job?.upstreamId ?? '')?.finishedAt;
    const archivedAt = Date.parse(archived.get(jobId)?.archivedAt ?? '');
    if (finishedAt !== undefined && Number.isFinite(archivedAt)) latencyMs.push(archivedAt - finishedAt);
    if (job?.provenance === 'verified' || job?.verification === 'confirmed') verified++;
  }
  return {
    statusPerJob: (emulator.stats.requests.status ?? 0) / count,
    latencyMs,
    verifiedShare: verified / count,
  };
}

export const webhookVerification: Benchmark = {
  name: 'webhook verification',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const count = ctx.quick ? 15 : 40;
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    const results = new Map<Policy, RunResult[]>();
    for (const policy of POLICIES) {
      const table = await ctx.stores.createTable(`verify-${policy}`);
      const bench = await startBenchStack(ctx.stores, {
        emulator: { jobDurationMs: 20, startDelayMs: 1, webhookRetryDelayMs: 500 },
        config: {
          JOBS_TABLE: table,
          WEBHOOK_VERIFICATION: policy,
          VERIFY_AFTER_MS: '0',
          FIRST_LOOK_MS: '3600000',
          LOOK_INTERVAL_MS: '3600000',
        },
      });
      try {
        await oneRun(bench, policy, 8); // warm-up: connections, JIT, lazily built clients
        const runs: RunResult[] = [];
        for (let run = 0; run < ctx.runs; run++) runs.push(await oneRun(bench, policy, count));
        results.set(policy, runs);
      } finally {
        await bench.stop();
        await ctx.stores.deleteTable(table);
      }
    }
    const trustRuns = results.get('trust') ?? [];
    const trustP50 = trustRuns.map((r) => percentile(r.latencyMs, 50));
    for (const policy of POLICIES) {
      const runs = results.get(policy) ?? [];
      const calls = runs.map((r) => r.statusPerJob);
      const p50 = runs.map((r) => percentile(r.latencyMs, 50));
      const p99 = runs.map((r) => percentile(r.latencyMs, 99));
      details[policy] = {
        statusPerJob: calls,
        latencyP50Ms: p50,
        latencyP99Ms: p99,
        verifiedShare: runs.map((r) => r.verifiedShare),
      };
      figures.push(
        figure({
          item: 8,
          key: `verification.${policy}.statusPerJob`,
          label: `status calls/job, ${policy} policy, webhooks working`,
          value: median(calls),
          unit: '',
          runs: calls,
          goal: { on: 'value', op: '<=', target: policy === 'trust' ? 0.05 : 1.05 },
          note: `${Math.round(median(runs.map((r) => r.verifiedShare)) * 100)}% of results verified or confirmed after one sweep`,
        }),
        figure({
          item: 8,
          key: `verification.${policy}.latency.p50`,
          label: `completion → ARCHIVED p50, ${policy} policy`,
          value: median(p50),
          unit: 'ms',
          runs: p50,
          baseline: { label: 'trust policy, same run', value: median(trustP50), unit: 'ms', runs: trustP50 },
        }),
        figure({
          item: 8,
          key: `verification.${policy}.latency.p99`,
          label: `completion → ARCHIVED p99, ${policy} policy`,
          value: median(p99),
          unit: 'ms',
          runs: p99,
        }),
      );
    }
    ctx.detail('webhookVerification', details);
    return figures;
  },
};
