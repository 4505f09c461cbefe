// The archiver under chaos: local mode's pieces composed by hand so faults reach the real SDK clients.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createS3Client,
} from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import type { SweepSummary } from '../../functions/core/sweep.ts';
import { type BuiltRuntime, createRuntime, setRuntime } from '../../functions/runtime.ts';
import { handler as sweeperHandler } from '../../functions/sweeper/handler.ts';
import { createGateway, type Gateway, type Schedule, startSchedule } from '../../local/gateway/index.ts';
import { apiRoutes, LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { KillSwitch, type StorageFaults } from './storage-faults.ts';

export interface ChaosSystemOptions {
  dataDir: string;
  /** The upstream endpoint's base URL as the archiver calls it (through the outage proxy). */
  upstreamBaseUrl: string;
  apiKey: string;
  webhookSecret: string;
  faults: StorageFaults;
  config: Record<string, string>;
  sweepIntervalMs: number;
}

/** One life of the archiver process: stores, gateway, runtime and sweeper timer. */
interface Life {
  stores: LocalStores;
  gateway: Gateway;
  runtime: BuiltRuntime;
  sweeper: Schedule<SweepSummary> | undefined;
  clients: Array<DynamoDBClient | S3Client>;
}

/** A fault-free view of the current stores, for checking what the archiver wrote. */
export interface CleanView {
  jobs: DynamoJobRepository;
  s3: S3Client;
  bucket: string;
  close(): void;
}

export class ChaosSystem {
  /** Every runtime that ran, in order (their metrics and published events add up to the run's). */
  readonly runtimes: BuiltRuntime[] = [];
  /** Handler failures the gateway answered with a 5xx. */
  handlerErrors = 0;
  /** Every finished sweeper pass: how long it ran and how late its oldest due job was. */
  readonly passes: Array<{ ms: number; oldestDueAgeMs: number }> = [];
  restarts = 0;
  private life: Life | undefined;
  private port = 0;

  constructor(private readonly options: ChaosSystemOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.life !== undefined;
  }

  private env(publicBaseUrl: string): Record<string, string> {
    const o = this.options;
    return {
      UPSTREAM_ENDPOINTS: JSON.stringify({ default: o.upstreamBaseUrl }),
      UPSTREAM_API_KEYS: JSON.stringify({ default: o.apiKey }),
      PUBLIC_BASE_URL: publicBaseUrl,
      WEBHOOK_SECRET: o.webhookSecret,
      JOBS_TABLE: LOCAL_TABLE,
      ARCHIVE_BUCKET: LOCAL_BUCKET,
      ...o.config,
    };
  }

  /** SDK clients on the current stores with the fault middleware (and a kill switch when given). */
  private faultyClients(stores: LocalStores, kill?: KillSwitch) {
    const target = { region: stores.region, credentials: stores.credentials };
    const dynamo = createDynamoClient({ ...target, endpoint: stores.dynamoEndpoint });
    const s3 = createS3Client({ ...target, endpoint: stores.s3Endpoint });
    this.options.faults.attach(dynamo, 'dynamodb', kill);
    this.options.faults.attach(s3, 's3', kill);
    return { dynamo, s3, document: createDynamoDocumentClient(dynamo) };
  }

  /** Starts stores (data kept on disk across restarts), the gateway (same port each time) and the sweeper. */
  async start(): Promise<void> {
    if (this.life) return;
    const stores = await startLocalStores({
      dataDir: this.options.dataDir,
      tableName: LOCAL_TABLE,
      bucketName: LOCAL_BUCKET,
    });
    const gateway = await createGateway({
      routes: apiRoutes(),
      port: this.port,
      host: '127.0.0.1',
      onError: () => {
        this.handlerErrors++;
      },
    });
    this.port = gateway.port;
    const clients = this.faultyClients(stores);
    const runtime = createRuntime(this.env(gateway.url), { dynamo: clients.document, s3: clients.s3 });
    this.runtimes.push(runtime);
    setRuntime(runtime);
    this.life = { stores, gateway, runtime, sweeper: undefined, clients: [clients.dynamo, clients.s3] };
    this.resumeSweeper();
  }

  /** Stops like a deploy does: the sweeper finishes its pass, the gateway drains, then the stores go. */
  async stop(): Promise<void> {
    const life = this.life;
    if (!life) return;
    this.life = undefined;
    await life.sweeper?.stop();
    await life.gateway.stop();
    await life.stores.stop();
    for (const client of life.clients) client.destroy();
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

  resumeSweeper(): void {
    const life = this.life;
    if (!life || life.sweeper) return;
    life.sweeper = startSchedule({
      intervalMs: this.options.sweepIntervalMs,
      handler: async (event, context) => {
        const started = Date.now();
        const summary = await sweeperHandler(event, context);
        this.passes.push({ ms: Date.now() - started, oldestDueAgeMs: summary.oldestDueAgeMs });
        return summary;
      },
      timeoutMs: 60_000,
      functionName: 'sweeper',
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
  doomedRuntime(): { runtime: BuiltRuntime; kill: KillSwitch } {
    const life = this.life;
    if (!life) throw new Error('the archiver is stopped');
    const kill = new KillSwitch();
    const clients = this.faultyClients(life.stores, kill);
    const runtime = createRuntime(this.env(life.gateway.url), { dynamo: clients.document, s3: clients.s3 });
    this.runtimes.push(runtime);
    return { runtime, kill };
  }

  clean(): CleanView {
    const life = this.life;
    if (!life) throw new Error('the archiver is stopped');
    const target = { region: life.stores.region, credentials: life.stores.credentials };
    const dynamo = createDynamoClient({ ...target, endpoint: life.stores.dynamoEndpoint });
    const s3 = createS3Client({ ...target, endpoint: life.stores.s3Endpoint });
    const shards = Number(life.runtime.config.DUE_SHARDS);
    return {
      jobs: new DynamoJobRepository({
        client: createDynamoDocumentClient(dynamo),
        tableName: LOCAL_TABLE,
        dueShards: shards,
      }),
      s3,
      bucket: LOCAL_BUCKET,
      close: () => {
        dynamo.destroy();
        s3.destroy();
      },
    };
  }
}
