// Queue drain (issue item 1): 2× an endpoint's /run window submitted at once, drained at the fleet-wide rate.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqsClient } from '../functions/adapters/aws-clients.ts';
import { handler as submitterHandler } from '../functions/submitter/handler.ts';
import { SUBMITTER_MAX_CONCURRENCY } from '../lib/constructs/submit-queue.ts';
import { startQueuePoller } from '../local/queue-poller.ts';
import { startLocalStack } from '../local/stack.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { type Figure, figure } from './support/figures.ts';

/** The upstream's documented /run limit (the emulator enforces it): 1000 per 10 s. */
const RUN_LIMIT_PER_S = 100;
/**
 * An endpoint with a tenth of it. At 100/s the whole local stack in this one process is CPU-bound; at 10/s
 * it is not, so the figure shows whether the submitter's pacing itself reaches the limit it is given.
 */
const PACED_LIMIT_PER_S = 10;

interface Drain {
  total: number;
  accepted: number;
  sent: number;
  spanMs: number;
  rate: number;
  refused: number;
  /** The most /run starts the emulator accepted in any 10 s: at most the limit, or 429s follow. */
  busiestWindow: number;
  /** CPU of this process (stack, stores, emulator, submitters) per /run start, and cores used while draining. */
  cpuMsPerStart: number;
  cores: number;
}

/** One drain at `limitPerS`; `--only queue-drain-paced` runs the paced one alone. */
const drainBenchmark = (name: string, limitPerS: number, kind: 'documented' | 'paced'): Benchmark => ({
  name,
  async run(ctx) {
    const measured = await drain(ctx, limitPerS, ctx.quick ? 5 : 10);
    ctx.detail(name, { [kind]: measured });
    return figures(measured, limitPerS, kind);
  },
});

export const queueDrain = drainBenchmark('queue-drain', RUN_LIMIT_PER_S, 'documented');
/** The pacing itself, without local mode's CPU as the bound. */
export const queueDrainPaced = drainBenchmark('queue-drain-paced', PACED_LIMIT_PER_S, 'paced');

function figures(d: Drain, limitPerS: number, kind: 'documented' | 'paced'): Figure[] {
  const suffix = kind === 'paced' ? '.paced' : '';
  const limitText = kind === 'paced' ? `an endpoint limited to ${limitPerS}/s` : 'the documented limit';
  return [
    figure({
      item: 1,
      key: `queue.drain.rate${suffix}`,
      label: `queue drain, ${d.total} jobs (2× the window) at ${limitText}: /run starts per second`,
      value: d.rate,
      unit: '/s',
      baseline: { label: `${limitText} (the emulator enforces it)`, value: limitPerS, unit: '/s' },
      goal: { on: 'ratio', op: '>=', target: 0.95 },
      note:
        `${d.sent}/${d.accepted} sent in ${(d.spanMs / 1000).toFixed(1)} s, at most ${d.busiestWindow} in any 10 s; ` +
        `${d.cpuMsPerStart.toFixed(1)} ms CPU per start, ${d.cores.toFixed(2)} cores of this one process`,
    }),
    figure({
      item: 1,
      key: `queue.drain.429${suffix}`,
      label: `queue drain at ${limitText}: /run answered 429`,
      value: d.refused,
      unit: 'count',
      goal: { on: 'value', op: '<=', target: 0 },
    }),
  ];
}

/** Accepts 2 × limit × window jobs through `POST /jobs/batch`, then drains them as the deployed fleet would. */
async function drain(ctx: BenchContext, limitPerS: number, windowS: number): Promise<Drain> {
  const total = 2 * limitPerS * windowS;
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-queue-'));
  const limitPer10s = limitPerS * 10;
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamoInMemory: true,
    sweepIntervalMs: 60_000,
    config: {
      LOG_LEVEL: 'silent',
      FIRST_LOOK_MS: '600000',
      // The deployed default's margin: 97% of the endpoint's limit.
      QUEUE_RUN_RATE_PER_10S: String(Math.floor(limitPer10s * 0.97)),
    },
    // Jobs outlast the drain, so no webhook capture shares the two cores with the submitter (in AWS they are
    // other functions); 64 workers keep the upstream queue under its 429 size: only the /run rate can refuse.
    emulator: {
      jobDurationMs: 600_000,
      startDelayMs: 1,
      workers: 64,
      rateLimits: { run: { limit: limitPer10s, windowMs: 10_000, concurrent: 200 } },
    },
  });
  const { stores } = stack;
  const sqs = createSqsClient({
    endpoint: stores.sqsEndpoint,
    region: stores.region,
    credentials: stores.credentials,
  });
  // The deployed shape: SUBMITTER_MAX_CONCURRENCY batches at once (SQS hands out at most 10 a receive).
  await stack.submitter.stop();
  try {
    const batches = Array.from({ length: Math.ceil(total / 100) }, (_, b) =>
      Array.from({ length: Math.min(100, total - b * 100) }, (_, i) => {
        const n = b * 100 + i;
        return { input: { n }, idempotencyKey: `bench-${limitPerS}-${n}` };
      }),
    );
    const answers = await Promise.all(batches.map((jobs) => acceptAll(stack.url, jobs)));
    const accepted = answers.reduce((sum, a) => sum + a.accepted, 0);
    const resends = answers.reduce((sum, a) => sum + a.resends, 0);
    ctx.log(
      `queue-drain: ${accepted}/${total} accepted at ${limitPerS}/s (${resends} lines resent); draining`,
    );
    const emulator = stack.emulator;
    if (!emulator) throw new Error('no emulator');
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    const poller = startQueuePoller({
      client: sqs,
      queueUrl: stores.queues.queueUrl,
      handler: submitterHandler,
      concurrency: SUBMITTER_MAX_CONCURRENCY,
    });
    // A cap only so a broken submitter ends the run: 20× the time the limit allows.
    while (emulator.jobs.list().length < accepted) {
      if (Date.now() - started > 20 * 2 * windowS * 1000) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const cpu = process.cpuUsage(cpuBefore);
    const drainedMs = Date.now() - started;
    await poller.stop();
    const runs = emulator.jobs
      .list()
      .map((j) => j.createdAt)
      .sort((a, b) => a - b);
    const first = runs[0] ?? 0;
    const last = runs.at(-1) ?? 0;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      total,
      accepted,
      sent: runs.length,
      spanMs: last - first,
      rate: runs.length > 1 ? ((runs.length - 1) * 1000) / Math.max(1, last - first) : 0,
      refused: emulator.stats.tooManyRequests,
      busiestWindow: busiestWindow(runs, 10_000),
      cpuMsPerStart: runs.length > 0 ? cpuMs / runs.length : 0,
      cores: cpuMs / Math.max(1, drainedMs),
    };
  } finally {
    sqs.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The largest count of sorted times inside any window of `windowMs` (the emulator's sliding window). */
function busiestWindow(sorted: readonly number[], windowMs: number): number {
  let most = 0;
  let head = 0;
  sorted.forEach((t, i) => {
    while ((sorted[head] ?? t) <= t - windowMs) head++;
    most = Math.max(most, i - head + 1);
  });
  return most;
}

interface BatchAnswer {
  accepted?: number;
  results?: { index: number; status: number }[];
}

/**
 * Sends one batch as a client of POST /jobs/batch should: an answer that is not 202 or 207 (the front busy)
 * is sent again whole, and a 207's lines that were not 2xx again alone, with the same idempotency keys, so
 * nothing is accepted twice. A few rounds; what is still refused then is left out of the drain.
 */
async function acceptAll(
  url: string,
  jobs: readonly { input: unknown; idempotencyKey: string }[],
): Promise<{ accepted: number; resends: number }> {
  let pending = [...jobs];
  let accepted = 0;
  let resends = 0;
  for (let round = 0; round < 5 && pending.length > 0; round++) {
    if (round > 0) {
      resends += pending.length;
      await new Promise((resolve) => setTimeout(resolve, 500 * round));
    }
    const res = await fetch(`${url}/jobs/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobs: pending }),
    }).catch(() => undefined);
    if (!res || (res.status !== 202 && res.status !== 207)) {
      const answer = res ? `${res.status} ${(await res.text()).slice(0, 200)}` : 'no answer';
      console.error(`queue-drain: batch of ${pending.length} answered ${answer}; resending`);
      continue;
    }
    const body = (await res.json()) as BatchAnswer;
    const refused = new Set((body.results ?? []).filter((r) => r.status >= 300).map((r) => r.index));
    accepted += pending.length - refused.size;
    pending = pending.filter((_, i) => refused.has(i));
  }
  return { accepted, resends };
}
