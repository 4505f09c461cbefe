// Starts the embedded stores in a child process, so storage work runs beside (not inside) the code measured.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  type AwsCredentials,
  createDynamoClient,
  createDynamoDocumentClient,
  createS3Client,
} from '../../functions/adapters/aws-clients.ts';
import { LOCAL_BUCKET, LOCAL_TABLE } from '../../local/stack.ts';
import { ensureTable } from '../../local/stores/index.ts';

export interface BenchStores {
  dynamoEndpoint: string;
  s3Endpoint: string;
  region: string;
  credentials: AwsCredentials;
  table: string;
  bucket: string;
  /** New clients built exactly as local mode builds them (aws-clients.ts factories). */
  dynamoClient(): DynamoDBDocumentClient;
  s3Client(): S3Client;
  /** A new, empty jobs table (every index) named `${LOCAL_TABLE}-${suffix}`, so benchmarks never share state. */
  createTable(suffix: string): Promise<string>;
  deleteTable(name: string): Promise<void>;
  /** CPU time (user + system, ms) the stores process has used so far. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

interface ReadyMessage {
  type: 'ready';
  dynamoEndpoint: string;
  s3Endpoint: string;
  region: string;
  credentials: AwsCredentials;
}

interface CpuMessage {
  type: 'cpu';
  usage: NodeJS.CpuUsage;
}

const CHILD = fileURLToPath(new URL('./stores-child.ts', import.meta.url));

/** dynalite (in memory) and s3rver (under `dataDir`) in one child process, table and bucket provisioned. */
export async function startBenchStores(dataDir: string): Promise<BenchStores> {
  const child = fork(CHILD, [dataDir, LOCAL_TABLE, LOCAL_BUCKET], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`stores child exited with ${code}`)));
    child.on('message', (message: ReadyMessage) => {
      if (message.type === 'ready') resolve(message);
    });
  });
  child.removeAllListeners('exit');
  const target = { region: ready.region, credentials: ready.credentials };
  return {
    ...ready,
    table: LOCAL_TABLE,
    bucket: LOCAL_BUCKET,
    dynamoClient: () => createDynamoDocumentClient({ ...target, endpoint: ready.dynamoEndpoint }),
    s3Client: () => createS3Client({ ...target, endpoint: ready.s3Endpoint }),
    async createTable(suffix) {
      const name = `${LOCAL_TABLE}-${suffix}`;
      const client = createDynamoClient({ ...target, endpoint: ready.dynamoEndpoint });
      try {
        await ensureTable(client, name, { ttl: false });
      } finally {
        client.destroy();
      }
      return name;
    },
    async deleteTable(name) {
      const client = createDynamoClient({ ...target, endpoint: ready.dynamoEndpoint });
      try {
        await client.send(new DeleteTableCommand({ TableName: name }));
      } finally {
        client.destroy();
      }
    },
    cpuMs: () =>
      new Promise<number>((resolve) => {
        const onMessage = (message: CpuMessage | ReadyMessage) => {
          if (message.type !== 'cpu') return;
          child.off('message', onMessage);
          resolve((message.usage.user + message.usage.system) / 1000);
        };
        child.on('message', onMessage);
        child.send({ type: 'cpu' });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
      }),
  };
}
