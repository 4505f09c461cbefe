// Starts the local DynamoDB and S3 (embedded servers or given endpoints) and provisions the table and bucket.
import { join, resolve } from 'node:path';
import {
  type AwsCredentials,
  createDynamoClient,
  createS3Client,
  createSqsClient,
  EMULATOR_DEFAULT_REGION,
} from '../../functions/adapters/aws-clients.ts';
import { dataFolderCredentials } from './credentials.ts';
import { startDynalite } from './dynalite.ts';
import { startDynamoDbLocal } from './dynamodb-local.ts';
import { startFauxqs } from './fauxqs.ts';
import type { RunningStore } from './net.ts';
import { ensureBucket, ensureTable } from './provision.ts';
import { ensureSubmitQueues, type SubmitQueues } from './queues.ts';
import { startS3rver } from './s3rver.ts';

export { dataFolderCredentials, STORE_CREDENTIALS_FILE } from './credentials.ts';
export { startDynalite } from './dynalite.ts';
export { checkJava, JAVA_INSTALL_HINT, type JavaCheck, startDynamoDbLocal } from './dynamodb-local.ts';
export type { RunningStore } from './net.ts';
export { ensureBucket, ensureTable } from './provision.ts';
export { ensureSubmitQueues, type SubmitQueues } from './queues.ts';
export { S3RVER_CREDENTIALS, startS3rver } from './s3rver.ts';

export type DynamoStoreChoice = 'dynalite' | 'dynamodb-local' | { endpoint: string };
export type S3StoreChoice = 's3rver' | { endpoint: string };
export type SqsStoreChoice = 'fauxqs' | { endpoint: string };

export interface LocalStoresOptions {
  /** Root data folder: dynalite/, dynamodb-local/ and s3/ live under it. */
  dataDir?: string;
  tableName: string;
  bucketName: string;
  dynamo?: DynamoStoreChoice;
  s3?: S3StoreChoice;
  sqs?: SqsStoreChoice;
  /** The submit queue's name (its dead-letter queue gets `-dlq`); default `submodel-archiver-submit`. */
  queueName?: string;
  /** Keep DynamoDB in memory (dynalite without a folder, DynamoDB Local with -inMemory). S3 is always on disk. */
  dynamoInMemory?: boolean;
  host?: string;
  /** 0 (default) picks free ports. */
  dynamoPort?: number;
  s3Port?: number;
  region?: string;
  /**
   * The pair the embedded stores require (SigV4 verified on every request); default: the data folder's own,
   * made on first start (`store-credentials.json`), so no other local process or web page can use them.
   */
  credentials?: AwsCredentials;
  /** Create the table and bucket when missing (default true). */
  provision?: boolean;
}

export interface LocalStores {
  dynamoEndpoint: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  /** The submit queue and its dead-letter queue (empty URLs when provisioning is off). */
  queues: SubmitQueues;
  credentials: AwsCredentials;
  /** Accept requests signed with this pair too, from now on (as-deployed mode: one key per function). */
  trust(credentials: AwsCredentials): void;
  region: string;
  /** Which DynamoDB implementation is behind dynamoEndpoint ('external' for a given endpoint). */
  dynamoKind: 'dynalite' | 'dynamodb-local' | 'external';
  /** Milliseconds each part took to start (servers and provisioning), for diagnostics. */
  timings: { dynamoMs: number; s3Ms: number; provisionMs: number };
  stop(): Promise<void>;
}

const external = (endpoint: string): RunningStore => ({ endpoint, stop: async () => {} });

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, Math.round(performance.now() - started)];
}

/** Starts (or connects to) both stores and provisions them; stop() shuts down what was started here. */
export async function startLocalStores(options: LocalStoresOptions): Promise<LocalStores> {
  const {
    dataDir = '.archiver',
    tableName,
    bucketName,
    dynamo = 'dynalite',
    s3 = 's3rver',
    sqs = 'fauxqs',
    queueName = 'submodel-archiver-submit',
    dynamoInMemory = false,
    host = '127.0.0.1',
    dynamoPort = 0,
    s3Port = 0,
    region = EMULATOR_DEFAULT_REGION,
    provision = true,
  } = options;
  const root = resolve(dataDir);
  const credentials = options.credentials ?? dataFolderCredentials(root);
  const trusted = new Map<string, AwsCredentials>();
  const dynamoKind = typeof dynamo === 'string' ? dynamo : 'external';

  // Start all in parallel: DynamoDB Local's JVM start dominates, s3rver and fauxqs hide behind it.
  const [dynamoResult, s3Result, sqsResult] = await Promise.allSettled([
    timed(() => {
      if (typeof dynamo !== 'string') return Promise.resolve(external(dynamo.endpoint));
      if (dynamo === 'dynalite') {
        const path = dynamoInMemory ? undefined : join(root, 'dynalite');
        return startDynalite({
          host,
          port: dynamoPort,
          credentials,
          trusted,
          ...(path !== undefined && { path }),
        });
      }
      const dbPath = dynamoInMemory ? undefined : join(root, 'dynamodb-local');
      return startDynamoDbLocal({
        ...(dynamoPort !== 0 && { port: dynamoPort }),
        ...(dbPath !== undefined && { dbPath }),
      });
    }),
    timed(() =>
      typeof s3 === 'string'
        ? startS3rver({ directory: join(root, 's3'), host, port: s3Port, credentials, trusted })
        : Promise.resolve(external(s3.endpoint)),
    ),
    typeof sqs === 'string'
      ? startFauxqs({ host, credentials, trusted })
      : Promise.resolve(external(sqs.endpoint)),
  ]);
  const started: RunningStore[] = [dynamoResult, s3Result].flatMap((r) =>
    r.status === 'fulfilled' ? [r.value[0]] : [],
  );
  if (sqsResult.status === 'fulfilled') started.push(sqsResult.value);
  const stopAll = async () => {
    await Promise.all(started.map((store) => store.stop()));
  };
  if (dynamoResult.status === 'rejected') {
    await stopAll();
    throw dynamoResult.reason;
  }
  if (s3Result.status === 'rejected') {
    await stopAll();
    throw s3Result.reason;
  }
  if (sqsResult.status === 'rejected') {
    await stopAll();
    throw sqsResult.reason;
  }
  const sqsStore = sqsResult.value;
  const [[dynamoStore, dynamoMs], [s3Store, s3Ms]] = [dynamoResult.value, s3Result.value];

  let provisionMs = 0;
  let queues: SubmitQueues = { queueUrl: '', deadLetterQueueUrl: '' };
  if (provision) {
    const sqsClient = createSqsClient({ endpoint: sqsStore.endpoint, region, credentials });
    try {
      queues = await ensureSubmitQueues(sqsClient, queueName);
    } catch (error) {
      await stopAll();
      throw error;
    } finally {
      sqsClient.destroy();
    }
    const dynamoClient = createDynamoClient({ endpoint: dynamoStore.endpoint, region, credentials });
    const s3Client = createS3Client({ endpoint: s3Store.endpoint, region, credentials });
    try {
      [, provisionMs] = await timed(() =>
        Promise.all([
          // dynalite lacks UpdateTimeToLive; everything else gets TTL like the CDK table.
          ensureTable(dynamoClient, tableName, { ttl: dynamoKind !== 'dynalite' }),
          ensureBucket(s3Client, bucketName, region),
        ]),
      );
    } catch (error) {
      await stopAll();
      throw error;
    } finally {
      dynamoClient.destroy();
      s3Client.destroy();
    }
  }

  return {
    dynamoEndpoint: dynamoStore.endpoint,
    s3Endpoint: s3Store.endpoint,
    sqsEndpoint: sqsStore.endpoint,
    queues,
    credentials,
    trust: (pair) => {
      trusted.set(pair.accessKeyId, pair);
    },
    region,
    dynamoKind,
    timings: { dynamoMs, s3Ms, provisionMs },
    stop: stopAll,
  };
}
