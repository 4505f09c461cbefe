// Item 1: webhooks fully archived per second at several concurrencies, against the bare storage ceiling.
import { PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { DynamoJobRepository } from '../functions/adapters/dynamo-job-repository.ts';
import type { Job } from '../functions/core/job.ts';
import { statesLeadingTo } from '../functions/core/job-state.ts';
import { resultDocumentChunks, resultKeyFor, statusOnly } from '../functions/core/result-document.ts';
import { signWebhookToken, webhookUrl } from '../functions/core/webhook-token.ts';
import { type BenchStack, startBenchStack } from './support/bench-stack.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { type RecordedRequest, requestTotal } from './support/counting.ts';
import { type Figure, figure } from './support/figures.ts';
import { pendingJob, seedJobs } from './support/seed.ts';
import { median } from './support/stats.ts';
import { runPool, timed } from './support/timing.ts';
import { completedStatus, webhookBody } from './support/webhook-body.ts';

const CONCURRENCIES = [1, 8, 32] as const;
/** Where the capture is also compared with its own storage requests replayed raw. */
const REPLAY_CONCURRENCY = 8;
/** A typical text result: about 2 KB of output. */
const OUTPUT_BYTES = 2000;

interface Prepared {
  job: Job;
  url: string;
  body: string;
  /** The exact result.json bytes a capture of this job writes. */
  resultDocument: Buffer;
}

async function prepare(bench: BenchStack, count: number, runTag: string): Promise<Prepared[]> {
  const { runtime } = bench;
  const secret = runtime.config.WEBHOOK_SECRET ?? '';
  const jobs = Array.from({ length: count }, (_, i) =>
    pendingJob(`bench-${runTag}-${i}-u1`, Date.now() + 3_600_000),
  );
  await seedJobs(bench.dynamo, runtime.config.JOBS_TABLE, jobs, runtime.config.DUE_SHARDS);
  return jobs.map((job, i) => {
    const url = webhookUrl(runtime.config.PUBLIC_BASE_URL, job.jobId, signWebhookToken(secret, job.jobId));
    const finished = {
      upstreamId: job.upstreamId ?? '',
      webhookUrl: url,
      outputBytes: OUTPUT_BYTES,
      seed: i,
    };
    const status = statusOnly(completedStatus(finished));
    const chunks = resultDocumentChunks(
      job,
      finished.upstreamId,
      Buffer.from(JSON.stringify(status)),
      'as-delivered',
    );
    return { job, url, body: webhookBody(finished), resultDocument: Buffer.concat(chunks) };
  });
}

/** The webhook path end to end: HTTP → gateway → webhook handler → capture → S3 + DynamoDB → 200. */
async function captureRun(items: readonly Prepared[], concurrency: number): Promise<number> {
  const { ms } = await timed(() =>
    runPool(items, concurrency, async (item) => {
      const response = await fetch(item.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: item.body,
      });
      const answer = (await response.json()) as { outcome?: string };
      if (response.status !== 200 || answer.outcome !== 'archived') {
        throw new Error(`webhook answered ${response.status} ${JSON.stringify(answer)}`);
      }
    }),
  );
  return items.length / (ms / 1000);
}

/** Records the storage requests one webhook capture makes, in order, by recording a real one. */
async function recordCapture(bench: BenchStack, item: Prepared): Promise<RecordedRequest[]> {
  const steps: RecordedRequest[] = [];
  const listener = (request: RecordedRequest) => {
    if (request.jobId === item.job.jobId) steps.push(request);
  };
  bench.dynamoCounter.listener = listener;
  bench.s3Counter.listener = listener;
  try {
    await captureRun([item], 1);
  } finally {
    bench.dynamoCounter.listener = undefined;
    bench.s3Counter.listener = undefined;
  }
  return steps;
}

type Step = () => Promise<unknown>;

/** The recorded requests rewritten for another job (its ids swapped in), ready to send with the same clients. */
function replaySteps(bench: BenchStack, steps: RecordedRequest[], from: Prepared, to: Prepared): Step[] {
  const swap = <T>(value: T): T => {
    let text = JSON.stringify(value).replaceAll(from.job.jobId, to.job.jobId);
    if (from.job.upstreamId && to.job.upstreamId)
      text = text.replaceAll(from.job.upstreamId, to.job.upstreamId);
    return JSON.parse(text) as T;
  };
  return steps.map((step): Step => {
    if (step.client === 's3') {
      const { Body, ...rest } = step.input;
      if (step.command !== 'PutObjectCommand' || !(Body instanceof Uint8Array)) {
        throw new Error(`cannot replay S3 ${step.command}`);
      }
      const input = { ...swap(rest), Body } as PutObjectCommandInput;
      return () => bench.s3.send(new PutObjectCommand(input));
    }
    const input = swap(step.input);
    switch (step.command) {
      case 'GetItemCommand':
        return () => bench.dynamo.send(new GetCommand(input as GetCommandInput));
      case 'PutItemCommand':
        return () => bench.dynamo.send(new PutCommand(input as PutCommandInput));
      case 'UpdateItemCommand':
        return () => bench.dynamo.send(new UpdateCommand(input as UpdateCommandInput));
      case 'BatchWriteItemCommand':
        return () => bench.dynamo.send(new BatchWriteCommand(input as BatchWriteCommandInput));
      case 'QueryCommand':
        return () => bench.dynamo.send(new QueryCommand(input as QueryCommandInput));
      default:
        throw new Error(`cannot replay DynamoDB ${step.command}`);
    }
  });
}

/** The capture's own storage requests, recorded and replayed per job without the code around them. */
async function replayRun(
  bench: BenchStack,
  recorded: { steps: RecordedRequest[]; item: Prepared },
  items: readonly Prepared[],
  concurrency: number,
): Promise<number> {
  const plans = items.map((item) => replaySteps(bench, recorded.steps, recorded.item, item));
  const { ms } = await timed(() =>
    runPool(plans, concurrency, async (plan) => {
      for (const step of plan) await step();
    }),
  );
  return items.length / (ms / 1000);
}

/** The storage ceiling: the one S3 put and the one DynamoDB update a capture cannot do without. */
async function ceilingRun(
  bench: BenchStack,
  items: readonly Prepared[],
  concurrency: number,
): Promise<number> {
  const { config } = bench.runtime;
  const repository = new DynamoJobRepository({
    client: bench.dynamo,
    tableName: config.JOBS_TABLE,
    dueShards: config.DUE_SHARDS,
  });
  const { ms } = await timed(() =>
    runPool(items, concurrency, async ({ job, resultDocument }) => {
      const key = resultKeyFor(job, 'as-delivered');
      await bench.s3.send(
        new PutObjectCommand({
          Bucket: config.ARCHIVE_BUCKET,
          Key: key,
          Body: resultDocument,
          ContentType: 'application/json',
          ContentLength: resultDocument.length,
          Metadata: { 'job-id': job.jobId, 'upstream-status': 'COMPLETED' },
        }),
      );
      const now = new Date().toISOString();
      await repository.apply(job.jobId, {
        name: 'ceiling',
        patch: {
          state: 'ARCHIVED',
          upstreamId: job.upstreamId ?? null,
          upstreamStatus: 'COMPLETED',
          lastSeenAt: now,
          finishedAt: now,
          archivedAt: now,
          captureSource: 'webhook',
          resultKey: key,
          resultBytes: resultDocument.length,
          artifacts: [],
          delayTime: 1187,
          executionTime: 4021,
          dueAt: null,
        },
        condition: { states: statesLeadingTo('ARCHIVED') },
      });
    }),
  );
  return items.length / (ms / 1000);
}

export const captureThroughput: Benchmark = {
  name: 'capture throughput',
  async run(ctx: BenchContext): Promise<Figure[]> {
    // The webhook path itself, as the trust policy runs it (no /status: these upstream ids are made up); what
    // each verification policy adds is measured by webhook-verification.ts.
    const bench = await startBenchStack(ctx.stores, { config: { WEBHOOK_VERIFICATION: 'trust' } });
    const perConcurrency = ctx.quick ? { 1: 25, 8: 80, 32: 120 } : { 1: 60, 8: 200, 32: 320 };
    const figures: Figure[] = [];
    const requests: Record<string, unknown> = {};
    try {
      // Warm-up: connections, JIT, lazily built SDK parts.
      const warm = await prepare(bench, 41, 'warm');
      await captureRun(warm.slice(0, 20), 4);
      await ceilingRun(bench, warm.slice(20, 40), 4);
      const recordedItem = warm[40];
      if (!recordedItem) throw new Error('no job to record');
      const recorded = { steps: await recordCapture(bench, recordedItem), item: recordedItem };
      for (const concurrency of CONCURRENCIES) {
        const count = perConcurrency[concurrency];
        const capture: number[] = [];
        const ceiling: number[] = [];
        const replay: number[] = [];
        let dynamoPerJob = 0;
        let s3PerJob = 0;
        for (let run = 0; run < ctx.runs; run++) {
          const captureItems = await prepare(bench, count, `c${concurrency}r${run}a`);
          const ceilingItems = await prepare(bench, count, `c${concurrency}r${run}b`);
          bench.dynamoCounter.take();
          bench.s3Counter.take();
          // Alternate the order so drift on a shared machine favours neither side.
          const measureCapture = async () => {
            bench.dynamoCounter.take();
            bench.s3Counter.take();
            capture.push(await captureRun(captureItems, concurrency));
            dynamoPerJob = requestTotal(bench.dynamoCounter.take().requests) / count;
            s3PerJob = requestTotal(bench.s3Counter.take().requests) / count;
          };
          const measureCeiling = async () => ceiling.push(await ceilingRun(bench, ceilingItems, concurrency));
          if (run % 2 === 0) {
            await measureCeiling();
            await measureCapture();
          } else {
            await measureCapture();
            await measureCeiling();
          }
          if (concurrency === REPLAY_CONCURRENCY) {
            const replayItems = await prepare(bench, count, `c${concurrency}r${run}c`);
            replay.push(await replayRun(bench, recorded, replayItems, concurrency));
          }
        }
        ctx.log(
          `  concurrency ${concurrency}: capture ${median(capture).toFixed(0)}/s, ceiling ${median(ceiling).toFixed(0)}/s`,
        );
        requests[`c${concurrency}`] = {
          dynamoRequestsPerCapture: dynamoPerJob,
          s3RequestsPerCapture: s3PerJob,
        };
        figures.push(
          figure({
            item: 1,
            key: `capture.throughput.c${concurrency}`,
            label: `webhooks archived/s, concurrency ${concurrency}`,
            value: median(capture),
            unit: '/s',
            runs: capture,
            baseline: {
              label: 'S3 put + DynamoDB update',
              value: median(ceiling),
              unit: '/s',
              runs: ceiling,
            },
            goal: { on: 'ratio', op: '>=', target: 0.8 },
          }),
        );
        if (replay.length) {
          figures.push(
            figure({
              item: 1,
              key: `capture.throughput.c${concurrency}.vsReplay`,
              label: `webhooks archived/s, concurrency ${concurrency}`,
              value: median(capture),
              unit: '/s',
              runs: capture,
              baseline: {
                label: `its own ${recorded.steps.length} requests replayed`,
                value: median(replay),
                unit: '/s',
                runs: replay,
              },
              note: 'what the webhook handler, gateway and services add over their own storage requests',
            }),
          );
        }
      }
      // What one capture sends to storage, against the two requests of the ceiling.
      const last = requests[`c${CONCURRENCIES[CONCURRENCIES.length - 1]}`] as {
        dynamoRequestsPerCapture: number;
        s3RequestsPerCapture: number;
      };
      figures.push(
        figure({
          item: 1,
          key: 'capture.requests',
          label: 'storage requests per webhook capture',
          value: last.dynamoRequestsPerCapture + last.s3RequestsPerCapture,
          unit: 'req',
          baseline: { label: 'ceiling: 1 put + 1 update', value: 2, unit: 'req' },
          note: `DynamoDB ${last.dynamoRequestsPerCapture}, S3 ${last.s3RequestsPerCapture} per capture`,
        }),
      );
      ctx.detail('captureThroughput', {
        jobsPerRun: perConcurrency,
        outputBytes: OUTPUT_BYTES,
        requests,
        oneCapture: recorded.steps.map((step) => step.command),
      });
      return figures;
    } finally {
      await bench.stop();
    }
  },
};
