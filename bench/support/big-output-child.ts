// Child process of the big-output benchmark: one measured archive (or raw upload) with its own memory figures.
import { setTimeout as sleep } from 'node:timers/promises';
import { Upload } from '@aws-sdk/lib-storage';
import { createDynamoDocumentClient, createS3Client } from '../../functions/adapters/aws-clients.ts';
import { sweep } from '../../functions/core/sweep.ts';
import { createRuntime } from '../../functions/runtime.ts';
import { runtimeEnv } from './runtime-env.ts';
import { pendingJob, seedJobs } from './seed.ts';

export interface ChildInput {
  mode: 'archive' | 'raw';
  dynamoEndpoint: string;
  s3Endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  table: string;
  bucket: string;
  upstream: { baseUrl: string; apiKey: string };
  warmUpstreamId: string;
  bigUpstreamId: string;
  payloadBytes: number;
}

export interface ChildOutput {
  ms: number;
  baselineRss: number;
  peakOverBaseline: number;
  storedBytes: number;
}

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('run with --expose-gc');
  collect();
  collect();
};

/** RSS high-water mark while `work` runs: kernel peak (resourceUsage) and 2 ms samples, whichever is higher. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ value: T; peak: number; ms: number }> {
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  let sampled = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 2);
  const started = performance.now();
  const value = await work();
  const ms = performance.now() - started;
  clearInterval(sampler);
  sampled = Math.max(sampled, process.memoryUsage.rss());
  const maxAfter = process.resourceUsage().maxRSS * 1024;
  return { value, peak: Math.max(sampled, maxAfter > maxBefore ? maxAfter : 0), ms };
}

async function main(input: ChildInput): Promise<ChildOutput> {
  const target = { region: input.region, credentials: input.credentials };
  const dynamo = createDynamoDocumentClient({ ...target, endpoint: input.dynamoEndpoint });
  const s3 = createS3Client({ ...target, endpoint: input.s3Endpoint });
  const upload = (key: string, body: Buffer) =>
    new Upload({
      client: s3,
      params: { Bucket: input.bucket, Key: key, Body: body, ContentType: 'application/json' },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    }).done();
  if (input.mode === 'raw') {
    await upload(`bench/raw/warm-${process.pid}.json`, Buffer.alloc(9 * 1024 * 1024, 0x61));
    gc();
    await sleep(50);
    const baselineRss = process.memoryUsage.rss();
    const { peak, ms } = await peakRss(async () => {
      // The same bytes have to be in memory before any client can upload them.
      const body = Buffer.alloc(input.payloadBytes, 0x61);
      await upload(`bench/raw/big-${process.pid}.json`, body);
    });
    return { ms, baselineRss, peakOverBaseline: peak - baselineRss, storedBytes: input.payloadBytes };
  }
  const env = runtimeEnv(input, input.table, input.upstream, { STATUS_RATE_PER_10S: '100000' });
  const runtime = createRuntime(env, { dynamo, s3 });
  const shards = runtime.config.DUE_SHARDS;
  const remainingMs = () => 600_000;
  // Warm-up through the same path: every module and client part the big capture needs is loaded.
  await seedJobs(dynamo, input.table, [pendingJob(input.warmUpstreamId, Date.now() - 1000)], shards);
  await sweep(runtime, { remainingMs });
  const big = pendingJob(input.bigUpstreamId, Date.now() - 1000);
  await seedJobs(dynamo, input.table, [big], shards);
  gc();
  await sleep(50);
  const baselineRss = process.memoryUsage.rss();
  const { value: summary, peak, ms } = await peakRss(() => sweep(runtime, { remainingMs }));
  const archived = await runtime.jobs.get(big.jobId);
  if (summary.archived !== 1 || archived?.state !== 'ARCHIVED') {
    throw new Error(`big job not archived: ${JSON.stringify(summary)} ${archived?.state}`);
  }
  return { ms, baselineRss, peakOverBaseline: peak - baselineRss, storedBytes: archived.resultBytes ?? 0 };
}

process.once('message', (input: ChildInput) => {
  main(input).then(
    (output) => process.send?.({ ok: true, output }, () => process.exit(0)),
    (error: unknown) =>
      process.send?.({ ok: false, error: error instanceof Error ? error.stack : String(error) }, () =>
        process.exit(1),
      ),
  );
});
