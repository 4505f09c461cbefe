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
  /** CPU of this process (stack, stores, emulator, submitters) per /run start, and cores used while draining. */
  cpuMsPerStart: number;
  cores: number;
}

export const queueDrain: Benchmark = {
  name: 'queue-drain',
  async run(ctx) {
    const windowS = ctx.quick ? 5 : 10;
    const documented = await drain(ctx, RUN_LIMIT_PER_S, windowS);
    const paced = await drain(ctx, PACED_LIMIT_PER_S, windowS);
    ctx.detail('queue-drain', { documented, paced });
    return [
      ...figures(documented, RUN_LIMIT_PER_S, 'documented'),
      ...figures(paced, PACED_LIMIT_PER_S, 'paced'),
    ];
  },
};

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
        `${d.sent}/${d.accepted} sent in ${(d.spanMs / 1000).toFixed(1)} s; ` +
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
      Array.from({ length: Math.min(100, total - b * 100) }, (_, i) => ({ input: { n: b * 100 + i } })),
    );
    let accepted = 0;
    await Promise.all(
      batches.map(async (jobs) => {
        const res = await fetch(`${stack.url}/jobs/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jobs }),
        });
        const body = (await res.json()) as { accepted: number };
        accepted += body.accepted;
      }),
    );
    ctx.log(`queue-drain: ${accepted}/${total} accepted at ${limitPerS}/s; draining`);
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
      cpuMsPerStart: runs.length > 0 ? cpuMs / runs.length : 0,
      cores: cpuMs / Math.max(1, drainedMs),
    };
  } finally {
    sqs.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
