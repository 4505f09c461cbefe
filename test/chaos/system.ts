// The archiver under chaos: local mode's pieces composed by hand so faults reach the real SDK clients.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createS3Client,
  createSqsClient,
} from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import { createQueueParts, setQueueParts } from '../../functions/composition/queue-parts.ts';
import type { DueJob } from '../../functions/core/ports.ts';
import type { QueueDeps } from '../../functions/core/queue-ports.ts';
import { type BuiltRuntime, createRuntime, setRuntime } from '../../functions/runtime.ts';
import { handler as submitterHandler } from '../../functions/submitter/handler.ts';
import { handler as sweeperHandler } from '../../functions/sweeper/handler.ts';
import { createGateway, type Gateway } from '../../local/gateway/index.ts';
import { type QueuePoller, startQueuePoller } from '../../local/queue-poller.ts';
import { apiRoutes, LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { type AwsSchedule, startAwsSchedule } from './aws-schedule.ts';
import type { QueueFaults } from './queue-faults.ts';
import { KillSwitch, type StorageFaults } from './storage-faults.ts';

/** One finished sweeper invocation: its summary, and when it ran (epoch ms). */
export interface SweepWindow {
  startedAt: number;
  endedAt: number;
  leaseHeld: boolean;
  passes: number;
  longestPassMs: number;
  oldestDueAgeMs: number;
  /** The invocation threw (its lease, if any, runs out by itself): what it threw. */
  failed?: string;
}
export interface ChaosSystemOptions {
  dataDir: string;
  /** The upstream endpoint's base URL as the archiver calls it (through the outage proxy). */
  upstreamBaseUrl: string;
  apiKey: string;
  webhookSecret: string;
  faults: StorageFaults;
  /** Faults of the pollers that drain the submit queue (lost acks, visibility cut short, reported failures). */
  queueFaults: QueueFaults;
  config: Record<string, string>;
  sweepIntervalMs: number;
}

/** Longest a stop waits for running handlers: past every function timeout (submit 29 s plus its retries). */
const HANDLER_DRAIN_MS = 90_000;

/**
 * One life of the archiver process: stores, gateway, runtime, sweeper timer and the submit queue's pollers.
 * The queue is local mode's fauxqs, in memory: it restarts with the life and loses its messages, as `npm
 * start` does (the jobs they carried are the sweeper's queue recovery's to re-send).
 */
interface Life {
  stores: LocalStores;
  gateway: Gateway;
  runtime: BuiltRuntime;
  sweeper: AwsSchedule | undefined;
  pollers: QueuePoller | undefined;
  /** The pollers' own SQS client: storage faults, and deletes that may be lost (queue-faults.ts). */
  pollerClient: SQSClient;
  clients: Array<DynamoDBClient | S3Client | SQSClient>;
}

/** A runtime whose every store, queue and upstream call can be frozen at once: a process about to die. */
export interface DoomedRuntime {
  runtime: BuiltRuntime;
  queue: QueueDeps;
  /** Its SQS client, on the submit queue at `queueUrl`. */
  sqs: SQSClient;
  queueUrl: string;
  kill: KillSwitch;
}

/** A fault-free view of the current stores, for checking what the archiver wrote. */
export interface CleanView {
  jobs: DynamoJobRepository;
  s3: S3Client;
  bucket: string;
  /** The current life's submit queue and its dead-letter queue. */
  sqs: SQSClient;
  queues: LocalStores['queues'];
  close(): void;
}

export class ChaosSystem {
  /** Every runtime that ran, in order (their metrics and published events add up to the run's). */
  readonly runtimes: BuiltRuntime[] = [];
  /** Handler failures the gateway answered with a 5xx. */
  handlerErrors = 0;
  /** Every finished sweeper invocation, lease held or not: the report's figures and an expiry's timeline. */
  readonly invocations: SweepWindow[] = [];
  restarts = 0;
  /** Poller rounds that failed (a receive or delete the storage faults broke, a handler that threw). */
  pollerErrors = 0;
  /** Who published each job event, `type#jobId` → the core functions on the stack (for violation lines). */
  readonly publishers = new Map<string, string[]>();
  /** Handler invocations running now (the gateway may have answered or cut their connection already). */
  inFlight = 0;
  private life: Life | undefined;
  private port = 0;

  constructor(private readonly options: ChaosSystemOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.life !== undefined;
  }

  private env(publicBaseUrl: string, queueUrl: string): Record<string, string> {
    const o = this.options;
    return {
      UPSTREAM_ENDPOINTS: JSON.stringify({ default: o.upstreamBaseUrl }),
      UPSTREAM_API_KEYS: JSON.stringify({ default: o.apiKey }),
      PUBLIC_BASE_URL: publicBaseUrl,
      WEBHOOK_SECRET: o.webhookSecret,
      JOBS_TABLE: LOCAL_TABLE,
      ARCHIVE_BUCKET: LOCAL_BUCKET,
      SUBMIT_QUEUE_URL: queueUrl,
      ...o.config,
    };
  }

  /** SDK clients on the current stores with the fault middleware (and a kill switch when given). */
  private readonly onEvent = (type: string, detail: { jobId?: unknown }) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const frames = stack
      .split('\n')
      .filter((line) => line.includes('/functions/core/'))
      .map((line) => /at (?:async )?([\w.]+)/.exec(line)?.[1] ?? '?');
    const key = `${type}#${String(detail.jobId)}`;
    this.publishers.set(key, [...(this.publishers.get(key) ?? []), frames.slice(0, 3).join('<')]);
  };

  private faultyClients(stores: LocalStores, kill?: KillSwitch) {
    const target = { region: stores.region, credentials: stores.credentials };
    const dynamo = createDynamoClient({ ...target, endpoint: stores.dynamoEndpoint });
    const s3 = createS3Client({ ...target, endpoint: stores.s3Endpoint });
    const sqs = createSqsClient({ ...target, endpoint: stores.sqsEndpoint });
    this.options.faults.attach(dynamo, 'dynamodb', kill);
    this.options.faults.attach(s3, 's3', kill);
    this.options.faults.attach(sqs, 'sqs', kill);
    return { dynamo, s3, sqs, document: createDynamoDocumentClient(dynamo) };
  }

  /**
   * Starts stores (data kept on disk across restarts; the queue anew, as local mode's), the gateway (same port
   * each time), the submit queue's pollers and the sweeper.
   */
  async start(): Promise<void> {
    if (this.life) return;
    const stores = await startLocalStores({
      dataDir: this.options.dataDir,
      tableName: LOCAL_TABLE,
      bucketName: LOCAL_BUCKET,
    });
    const gateway = await createGateway({
      routes: apiRoutes().map((route) => ({
        ...route,
        handler: async (...args: Parameters<typeof route.handler>) => {
          this.inFlight++;
          try {
            return await route.handler(...args);
          } finally {
            this.inFlight--;
          }
        },
      })),
      port: this.port,
      host: '127.0.0.1',
      onError: () => {
        this.handlerErrors++;
      },
    });
    this.port = gateway.port;
    const clients = this.faultyClients(stores);
    const runtime = createRuntime(this.env(gateway.url, stores.queues.queueUrl), {
      dynamo: clients.document,
      s3: clients.s3,
      onEvent: this.onEvent,
    });
    this.runtimes.push(runtime);
    setRuntime(runtime);
    // As local/stack.ts does: every handler of the process (submit, submitter, sweeper) enqueues through these.
    setQueueParts(createQueueParts(runtime.config, { sqs: clients.sqs, dynamo: clients.document }));
    const pollerClient = createSqsClient({
      region: stores.region,
      credentials: stores.credentials,
      endpoint: stores.sqsEndpoint,
    });
    this.options.queueFaults.attach(pollerClient);
    this.options.faults.attach(pollerClient, 'sqs');
    this.life = {
      stores,
      gateway,
      runtime,
      sweeper: undefined,
      pollers: undefined,
      pollerClient,
      clients: [clients.dynamo, clients.s3, clients.sqs, pollerClient],
    };
    this.resumePollers();
    this.resumeSweeper();
  }

  /** Stops like a deploy does: the sweeper finishes its pass, the gateway drains, then the stores go. */
  async stop(): Promise<void> {
    const life = this.life;
    if (!life) return;
    this.life = undefined;
    // The pollers first: a batch in flight finishes and acknowledges, as an event source stops on a deploy.
    await life.pollers?.stop();
    await life.sweeper?.stop();
    await life.gateway.stop();
    // The gateway cuts connections after its grace, but a handler cannot be killed here the way Lambda kills
    // one: let it finish on the stores it started with. In AWS a deploy never takes DynamoDB away from a
    // running invocation; stopping the stores under it would be a fault no deployment has.
    for (const until = Date.now() + HANDLER_DRAIN_MS; this.inFlight > 0 && Date.now() < until; )
      await new Promise((resolve) => setTimeout(resolve, 50));
    await life.stores.stop();
    for (const client of life.clients) client.destroy();
    setQueueParts(undefined);
    setRuntime(undefined);
  }

  async restart(downtime: () => Promise<void>): Promise<void> {
    await this.stop();
    await downtime();
    await this.start();
    this.restarts++;
  }

  /** Stops the sweeper timer after its current pass. */
  async pauseSweeper(): Promise<void> {
    const life = this.life;
    const sweeper = life?.sweeper;
    if (!life || !sweeper) return;
    life.sweeper = undefined;
    await sweeper.stop();
  }

  /** Stops the submit queue's pollers once their batches in flight are handled. */
  async pausePollers(): Promise<void> {
    const life = this.life;
    const pollers = life?.pollers;
    if (!life || !pollers) return;
    life.pollers = undefined;
    await pollers.stop();
  }

  /** Local mode's two pollers on the submit queue, into the submitter handler (local/stack.ts). */
  resumePollers(): void {
    const life = this.life;
    if (!life || life.pollers) return;
    const queueUrl = life.stores.queues.queueUrl;
    const submitter = async (event: Parameters<typeof submitterHandler>[0]) => {
      this.inFlight++;
      try {
        return await submitterHandler(event);
      } finally {
        this.inFlight--;
      }
    };
    life.pollers = startQueuePoller({
      client: life.pollerClient,
      queueUrl,
      handler: this.options.queueFaults.wrap(submitter, life.pollerClient, queueUrl),
      onError: () => {
        this.pollerErrors++;
      },
    });
  }

  resumeSweeper(): void {
    const life = this.life;
    if (!life || life.sweeper) return;
    life.sweeper = startAwsSchedule({
      intervalMs: this.options.sweepIntervalMs,
      handler: async (event, context) => {
        const startedAt = Date.now();
        try {
          const summary = await sweeperHandler(event, context);
          this.invocations.push({ ...summary, startedAt, endedAt: Date.now() });
          return summary;
        } catch (err) {
          // Kept too: a timeline with a gap where a sweep failed would read as a schedule that never fired.
          const failed = String(err).slice(0, 120);
          const nothing = { leaseHeld: false, passes: 0, longestPassMs: 0, oldestDueAgeMs: 0 };
          this.invocations.push({ ...nothing, startedAt, endedAt: Date.now(), failed });
          throw err;
        }
      },
      timeoutMs: 60_000,
      onError: () => {
        this.handlerErrors++;
      },
    });
  }

  /** The runtime serving requests now. */
  get runtime(): BuiltRuntime {
    if (!this.life) throw new Error('the archiver is stopped');
    return this.life.runtime;
  }

  /**
   * A second runtime on the same stores whose every call can be frozen at once (KillSwitch): a sweeper
   * Lambda that dies mid-pass. Its clients are never closed; after the kill nothing they do settles.
   */
  doomedRuntime(): DoomedRuntime {
    const life = this.life;
    if (!life) throw new Error('the archiver is stopped');
    const kill = new KillSwitch();
    const clients = this.faultyClients(life.stores, kill);
    const queueUrl = life.stores.queues.queueUrl;
    const runtime = createRuntime(this.env(life.gateway.url, queueUrl), {
      dynamo: clients.document,
      s3: clients.s3,
      onEvent: this.onEvent,
    });
    this.runtimes.push(runtime);
    const queue = createQueueParts(runtime.config, { sqs: clients.sqs, dynamo: clients.document });
    return { runtime, queue, sqs: clients.sqs, queueUrl, kill };
  }

  /** How many jobs are due now and how late the most overdue one is (what the sweeper has yet to look at). */
  async dueBacklog(view: CleanView): Promise<DueBacklog> {
    const now = Date.now();
    const shards = Number(this.runtime.config.DUE_SHARDS);
    const pages = await Promise.all(
      Array.from({ length: shards }, (_, shard) => view.jobs.queryDue(shard, now, 1000).catch(() => [])),
    );
    const due = pages.flat();
    // Runsync jobs sort ahead of the backlog on purpose (schedule.ts): the lag is the others'.
    const oldest = due.filter((j) => !j.sync).sort((a, b) => a.dueAt - b.dueAt)[0];
    return {
      count: due.length,
      oldestOverdueMs: oldest ? now - oldest.dueAt : 0,
      ...(oldest && { oldest: dueJobLine(oldest) }),
    };
  }

  clean(): CleanView {
    const life = this.life;
    if (!life) throw new Error('the archiver is stopped');
    const target = { region: life.stores.region, credentials: life.stores.credentials };
    const dynamo = createDynamoClient({ ...target, endpoint: life.stores.dynamoEndpoint });
    const s3 = createS3Client({ ...target, endpoint: life.stores.s3Endpoint });
    const sqs = createSqsClient({ ...target, endpoint: life.stores.sqsEndpoint });
    const shards = Number(life.runtime.config.DUE_SHARDS);
    return {
      jobs: new DynamoJobRepository({
        client: createDynamoDocumentClient(dynamo),
        tableName: LOCAL_TABLE,
        dueShards: shards,
      }),
      s3,
      bucket: LOCAL_BUCKET,
      sqs,
      queues: life.stores.queues,
      close: () => {
        dynamo.destroy();
        s3.destroy();
        sqs.destroy();
      },
    };
  }
}

/** What the sweeper has yet to look at: how many jobs are due, and the most overdue one. */
export interface DueBacklog {
  count: number;
  oldestOverdueMs: number;
  /** The most overdue job, as one line: which of its states keeps it due is what a reader needs. */
  oldest?: string;
}

function dueJobLine(job: DueJob): string {
  const held = job.leaseUntil !== undefined && job.leaseUntil > Date.now() ? ' leased' : '';
  const parts = [job.state, job.upstreamStatus, job.verification && `verification ${job.verification}`];
  return `${job.jobId} ${parts.filter(Boolean).join(' ')}${held}`;
}
