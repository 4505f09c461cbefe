// Queue drain (issue item 1): 2× the documented /run limit submitted at once, drained at the fleet-wide rate.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqsClient } from '../functions/adapters/aws-clients.ts';
import { handler as submitterHandler } from '../functions/submitter/handler.ts';
import { SUBMITTER_MAX_CONCURRENCY } from '../lib/constructs/submit-queue.ts';
import { startQueuePoller } from '../local/queue-poller.ts';
import { startLocalStack } from '../local/stack.ts';
import type { Benchmark } from './support/context.ts';
import { figure } from './support/figures.ts';

/** The upstream's documented /run limit (the emulator enforces it): 1000 per 10 s. */
const RUN_LIMIT_PER_S = 100;

export const queueDrain: Benchmark = {
  name: 'queue-drain',
  async run(ctx) {
    // Twice what the limit lets through in the window, all accepted in the first moments.
    const windowS = ctx.quick ? 5 : 10;
    const total = 2 * RUN_LIMIT_PER_S * windowS;
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-queue-'));
    const stack = await startLocalStack({
      port: 0,
      dataDir,
      dynamoInMemory: true,
      sweepIntervalMs: 60_000,
      config: { LOG_LEVEL: 'silent', FIRST_LOOK_MS: '600000' },
      // Jobs outlast the drain, so no webhook capture shares the two cores with the submitter (in AWS they are
      // other functions); 64 workers keep the upstream queue under its 429 size: only the /run rate can refuse.
      emulator: { jobDurationMs: 600_000, startDelayMs: 1, workers: 64 },
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
      const batches = Array.from({ length: total / 100 }, (_, b) =>
        Array.from({ length: 100 }, (_, i) => ({ input: { n: b * 100 + i } })),
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
      ctx.log(`queue-drain: ${accepted}/${total} accepted; draining`);
      const emulator = stack.emulator;
      if (!emulator) throw new Error('no emulator');
      const started = Date.now();
      const poller = startQueuePoller({
        client: sqs,
        queueUrl: stores.queues.queueUrl,
        handler: submitterHandler,
        concurrency: SUBMITTER_MAX_CONCURRENCY,
      });
      while (emulator.jobs.list().length < accepted) {
        if (Date.now() - started > 20 * windowS * 1000) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await poller.stop();
      const runs = emulator.jobs
        .list()
        .map((j) => j.createdAt)
        .sort((a, b) => a - b);
      const first = runs[0] ?? 0;
      const last = runs.at(-1) ?? 0;
      const rate = runs.length > 1 ? ((runs.length - 1) * 1000) / Math.max(1, last - first) : 0;
      const refused = emulator.stats.tooManyRequests;
      ctx.detail('queue-drain', { total, accepted, sent: runs.length, spanMs: last - first, refused });
      return [
        figure({
          item: 1,
          key: 'queue.drain.rate',
          label: `queue drain, ${total} jobs (2× the window): /run starts per second`,
          value: rate,
          unit: '/s',
          baseline: { label: 'documented /run limit', value: RUN_LIMIT_PER_S, unit: '/s' },
          goal: { on: 'ratio', op: '>=', target: 0.95 },
          note: `${runs.length}/${accepted} sent in ${((last - first) / 1000).toFixed(1)} s`,
        }),
        figure({
          item: 1,
          key: 'queue.drain.429',
          label: 'queue drain: /run answered 429',
          value: refused,
          unit: 'count',
          goal: { on: 'value', op: '<=', target: 0 },
        }),
      ];
    } finally {
      sqs.destroy();
      await stack.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};
