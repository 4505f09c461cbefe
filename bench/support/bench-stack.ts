// The local stack (gateway, real handlers, sweeper timer, emulator) over the bench stores, with counted clients.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BuiltRuntime, createRuntime, setRuntime } from '../../functions/runtime.ts';
import type { EmulatorOptions } from '../../local/emulator/index.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { DynamoCounter, S3Counter } from './counting.ts';
import type { BenchStores } from './stores.ts';

export interface BenchStack {
  stack: LocalStack;
  /** The runtime every handler and the sweeper timer use (built over counted clients). */
  runtime: BuiltRuntime;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
  dynamoCounter: DynamoCounter;
  s3Counter: S3Counter;
  /** The environment the runtime was built from, for building more runtimes like it. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  emulator?: EmulatorOptions;
  /** An upstream started by the benchmark instead of the stack's own emulator. */
  upstream?: { baseUrl: string; apiKey: string };
  sweepIntervalMs?: number;
  /** Archiver configuration variables on top of the local defaults. */
  config?: Record<string, string>;
}

/**
 * startLocalStack against the bench stores, then the same runtime rebuilt from the same environment over
 * clients carrying the counting middleware, installed with setRuntime so the gateway's handlers and the
 * sweeper timer use it.
 */
export async function startBenchStack(
  stores: BenchStores,
  options: BenchStackOptions = {},
): Promise<BenchStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'archiver-bench-stack-'));
  const config = { LOG_LEVEL: 'silent', ...options.config };
  const stack = await startLocalStack({
    port: 0,
    dataDir,
    dynamo: { endpoint: stores.dynamoEndpoint },
    s3: { endpoint: stores.s3Endpoint },
    // The bench stores accept only their own data folder's key pair.
    storeCredentials: stores.credentials,
    ...(options.upstream ? { upstream: options.upstream } : { emulator: options.emulator ?? {} }),
    sweepIntervalMs: options.sweepIntervalMs ?? 3_600_000,
    config,
  });
  const c = stack.runtime.config;
  const env: Record<string, string> = {
    UPSTREAM_ENDPOINTS: JSON.stringify(c.UPSTREAM_ENDPOINTS),
    UPSTREAM_API_KEYS: JSON.stringify(c.UPSTREAM_API_KEYS ?? {}),
    PUBLIC_BASE_URL: c.PUBLIC_BASE_URL,
    WEBHOOK_SECRET: c.WEBHOOK_SECRET ?? '',
    JOBS_TABLE: c.JOBS_TABLE,
    ARCHIVE_BUCKET: c.ARCHIVE_BUCKET,
    FIRST_LOOK_MS: String(c.FIRST_LOOK_MS),
    LOOK_INTERVAL_MS: String(c.lookIntervalMs),
    NOT_FOUND_GRACE_MS: String(c.NOT_FOUND_GRACE_MS),
    SUBMIT_STALE_MS: String(c.SUBMIT_STALE_MS),
    SWEEP_SAFETY_MS: String(c.SWEEP_SAFETY_MS),
    ...config,
  };
  const dynamo = stores.dynamoClient();
  const s3 = stores.s3Client();
  const dynamoCounter = new DynamoCounter().attach(dynamo);
  const s3Counter = new S3Counter().attach(s3);
  const runtime = createRuntime(env, { dynamo, s3 });
  setRuntime(runtime);
  return {
    stack,
    runtime,
    dynamo,
    s3,
    dynamoCounter,
    s3Counter,
    env,
    async stop() {
      await stack.stop();
      dynamo.destroy();
      s3.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
