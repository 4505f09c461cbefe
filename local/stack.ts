// Local mode's composition: embedded stores, the emulator (or a real upstream), the gateway and the sweeper timer.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createDynamoDocumentClient,
  createS3Client,
  createSqsClient,
} from '../functions/adapters/aws-clients.ts';
import { createQueueParts, setQueueParts } from '../functions/composition/queue-parts.ts';
import type { InvocationSummary } from '../functions/core/sweep-invocation.ts';
import { handler as resultsHandler } from '../functions/results/handler.ts';
import { type BuiltRuntime, createRuntime, type RuntimeClients, setRuntime } from '../functions/runtime.ts';
import { handler as submitHandler } from '../functions/submit/handler.ts';
import { handler as submitterHandler } from '../functions/submitter/handler.ts';
import { handler as webhookHandler } from '../functions/webhook/handler.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from './emulator/index.ts';
import { createGateway, type Gateway, type GatewayRoute, type Schedule } from './gateway/index.ts';
import { type QueuePoller, startQueuePoller } from './queue-poller.ts';
import {
  type DynamoStoreChoice,
  type LocalStores,
  type LocalStoresOptions,
  type S3StoreChoice,
  type SqsStoreChoice,
  startLocalStores,
} from './stores/index.ts';
import { startSweeperSchedules } from './sweeper-schedules.ts';
import { allowBrowserReads, createWebServer } from './web-server.ts';

export const LOCAL_TABLE = 'submodel-archiver-jobs';
export const LOCAL_BUCKET = 'submodel-archiver-archive';
export const LOCAL_ENDPOINT_ID = 'local-endpoint';

export interface LocalStackOptions {
  /** Gateway port; 0 picks a free one. Default 8787. */
  port?: number;
  host?: string;
  /** Base URL the upstream calls back; defaults to the gateway's own URL. */
  publicBaseUrl?: string;
  dataDir?: string;
  dynamo?: DynamoStoreChoice;
  s3?: S3StoreChoice;
  /** The submit queue's SQS: embedded fauxqs by default. */
  sqs?: SqsStoreChoice;
  /** Keep DynamoDB in memory (tests). */
  dynamoInMemory?: boolean;
  /** The key pair the stores accept; default the data folder's own (see local/stores/credentials.ts). */
  storeCredentials?: LocalStoresOptions['credentials'];
  /** A real upstream; when absent the SubModel emulator is started with `emulator` options. */
  upstream?: { baseUrl: string; apiKey: string };
  emulator?: EmulatorOptions;
  /** Sweeper timer interval. Default 2 s (AWS: 1 min). */
  sweepIntervalMs?: number;
  /** Archiver configuration variables (functions/config.ts) that override the local defaults. */
  config?: Record<string, string>;
  /** Bearer token the client routes require (optional in local mode; IAM does this in AWS). */
  authToken?: string;
  /** Host names the API answers to besides the loopback ones (the public base URL's host is added). */
  allowedHosts?: readonly string[];
  /** Called with every job event (npm start prints them). */
  onEvent?: RuntimeClients['onEvent'];
  /** Serves paths no API route matches; the archive browser by default. */
  fallback?: Parameters<typeof createGateway>[0]['fallback'];
}

export interface LocalStack {
  url: string;
  emulator?: Emulator;
  stores: LocalStores;
  runtime: BuiltRuntime;
  gateway: Gateway;
  sweeper: Schedule<InvocationSummary>;
  /** Drains the submit queue into the submitter handler, like Lambda's SQS event source. */
  submitter: QueuePoller;
  /** Where s3rver keeps objects: `${dataDir}/s3/${bucket}/${key}`. */
  dataDir: string;
  stop(): Promise<void>;
}

/** The routes of DESIGN's HTTP API, each to the same handler the Lambda runs. */
export function apiRoutes(): GatewayRoute[] {
  return [
    { method: 'POST', path: '/jobs', handler: submitHandler, auth: true, timeoutMs: 29_000 },
    { method: 'POST', path: '/jobs/batch', handler: submitHandler, auth: true, timeoutMs: 29_000 },
    { method: 'POST', path: '/jobs/track', handler: submitHandler, auth: true, timeoutMs: 29_000 },
    { method: 'POST', path: '/jobs/{jobId}/cancel', handler: submitHandler, auth: true, timeoutMs: 29_000 },
    {
      method: 'POST',
      path: '/jobs/{jobId}/reconcile',
      handler: submitHandler,
      auth: true,
      timeoutMs: 29_000,
    },
    { method: 'GET', path: '/jobs', handler: resultsHandler, auth: true },
    { method: 'GET', path: '/jobs/{jobId}', handler: resultsHandler, auth: true },
    { method: 'GET', path: '/jobs/{jobId}/events', handler: resultsHandler, auth: true },
    { method: 'GET', path: '/jobs/{jobId}/result', handler: resultsHandler, auth: true },
    { method: 'GET', path: '/health', handler: resultsHandler },
    { method: 'POST', path: '/webhooks/{jobId}/{token}', handler: webhookHandler, timeoutMs: 10_000 },
  ];
}

/** Local defaults: the retention window stays real, but looks come fast enough for a demo to watch. */
const LOCAL_CONFIG: Record<string, string> = {
  FIRST_LOOK_MS: '5000',
  LOOK_INTERVAL_MS: '5000',
  NOT_FOUND_GRACE_MS: '5000',
  SUBMIT_STALE_MS: '30000',
  SWEEP_SAFETY_MS: '2000',
  // The local timer ticks every 2 s, one run at a time: one pass per tick, as before sweeping on (AWS's
  // once-a-minute schedule is what needs it).
  SWEEP_INVOCATION_MS: '0',
  LOG_LEVEL: 'warn',
};

/** Starts everything; `stop()` shuts it down in reverse order, letting in-flight work finish. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = options.dataDir ?? '.archiver';
  const stores = await startLocalStores({
    dataDir,
    tableName: LOCAL_TABLE,
    bucketName: LOCAL_BUCKET,
    ...(options.dynamo && { dynamo: options.dynamo }),
    ...(options.s3 && { s3: options.s3 }),
    ...(options.sqs && { sqs: options.sqs }),
    ...(options.dynamoInMemory && { dynamoInMemory: true }),
    ...(options.storeCredentials && { credentials: options.storeCredentials }),
  });
  // The archive browser reads archived files through presigned URLs, another origin than the page.
  if (options.s3 === undefined) await allowBrowserReads(stores, LOCAL_BUCKET);
  // The emulator keeps its jobs in the data folder, so a restart of `npm start` finds them as it left them.
  const emulator = options.upstream
    ? undefined
    : await startEmulator({ stateFile: join(dataDir, 'emulator-jobs.json'), ...options.emulator });
  const upstreamBase = options.upstream?.baseUrl ?? emulator?.baseUrlFor(LOCAL_ENDPOINT_ID) ?? '';
  const apiKey = options.upstream?.apiKey ?? emulator?.apiKey ?? '';

  // The gateway needs the handlers' runtime, and the runtime needs the gateway's URL for callbacks:
  // start the gateway first; handlers read the runtime only when a request arrives.
  const gateway = await createGateway({
    routes: apiRoutes(),
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
    ...(options.authToken && { authToken: options.authToken }),
    allowedHosts: [
      ...(options.allowedHosts ?? []),
      ...(options.publicBaseUrl ? [new URL(options.publicBaseUrl).hostname] : []),
    ],
    fallback: options.fallback ?? createWebServer(),
    onError: (error, info) => runtime.logger.error('handler failed', { ...info, error: String(error) }),
  });
  const env: Record<string, string> = {
    UPSTREAM_ENDPOINTS: JSON.stringify({ default: upstreamBase }),
    UPSTREAM_API_KEYS: JSON.stringify({ default: apiKey }),
    PUBLIC_BASE_URL: options.publicBaseUrl ?? gateway.url,
    WEBHOOK_SECRET: localWebhookSecret(dataDir),
    JOBS_TABLE: LOCAL_TABLE,
    ARCHIVE_BUCKET: LOCAL_BUCKET,
    ...(stores.queues.queueUrl && { SUBMIT_QUEUE_URL: stores.queues.queueUrl }),
    ...LOCAL_CONFIG,
    ...options.config,
  };
  const target = { endpoint: '', region: stores.region, credentials: stores.credentials };
  const dynamo = createDynamoDocumentClient({ ...target, endpoint: stores.dynamoEndpoint });
  const s3 = createS3Client({ ...target, endpoint: stores.s3Endpoint });
  const runtime = createRuntime(env, {
    dynamo,
    s3,
    ...(options.onEvent && { onEvent: options.onEvent }),
  });
  setRuntime(runtime);
  const sqs = createSqsClient({ ...target, endpoint: stores.sqsEndpoint });
  setQueueParts(createQueueParts(runtime.config, { sqs, dynamo }));
  const submitter = !stores.queues.queueUrl
    ? { stop: async () => {} }
    : startQueuePoller({
        client: sqs,
        queueUrl: stores.queues.queueUrl,
        handler: submitterHandler,
        onError: (error) => runtime.logger.error('submit batch failed', { error: String(error) }),
      });
  // One timer per group of due shards, as the stack has one schedule per group.
  const sweeper = startSweeperSchedules({
    groups: runtime.config.SWEEP_GROUPS,
    intervalMs: options.sweepIntervalMs ?? 2000,
    onError: (error) => runtime.logger.error('sweep failed', { error: String(error) }),
  });

  return {
    url: gateway.url,
    ...(emulator && { emulator }),
    stores,
    runtime,
    gateway,
    sweeper,
    submitter,
    dataDir,
    async stop() {
      await submitter.stop();
      await sweeper.stop();
      await gateway.stop();
      await emulator?.stop();
      await stores.stop();
      // Close the clients' keep-alive sockets: a process may start several stacks (tests, benchmarks).
      dynamo.destroy();
      s3.destroy();
      sqs.destroy();
      setQueueParts(undefined);
      setRuntime(undefined);
    },
  };
}

/** A per-data-folder secret, so tokens stay valid across restarts of the same local archive. */

function localWebhookSecret(dataDir: string): string {
  const file = join(dataDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
