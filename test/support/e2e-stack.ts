// Local stacks for the end-to-end suite: either DynamoDB server, fast clocks, temp folders, and what the stack holds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client } from '../../functions/adapters/aws-clients.ts';
import { LocalEventPublisher } from '../../functions/adapters/event-publishers.ts';
import type { Emulator, EmulatorOptions } from '../../local/emulator/index.ts';
import { LOCAL_BUCKET, type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.ts';
import { checkJava, JAVA_INSTALL_HINT } from '../../local/stores/index.ts';
import { ArchiverApi } from './e2e-api.ts';
import { WAIT_CAP_MS } from './wait.ts';

export type DynamoServer = 'dynalite' | 'dynamodb-local';

/** One DynamoDB server the suite runs against, and whether it can run here. */
export interface DynamoTarget {
  server: DynamoServer;
  /** Set when the server cannot run here and the suite may skip it (outside CI). */
  skip: boolean;
  /** Set when the server cannot run here but must (CI): every test of the block fails with this. */
  missing?: string;
}

/**
 * dynalite always; AWS's DynamoDB Local when Java 17+ is installed. Without Java the DynamoDB Local block is
 * skipped with a hint locally, and fails under CI (CI=true) so a green CI run always covered both servers.
 */
export async function dynamoTargets(): Promise<DynamoTarget[]> {
  const java = await checkJava();
  if (java.available) {
    return [
      { server: 'dynalite', skip: false },
      { server: 'dynamodb-local', skip: false },
    ];
  }
  const ci = process.env.CI === 'true';
  const reason = `DynamoDB Local needs Java 17+ (${java.reason}); ${JAVA_INSTALL_HINT}`;
  if (!ci) console.warn(`Skipping the end-to-end suite on DynamoDB Local: ${reason}`);
  return [
    { server: 'dynalite', skip: false },
    { server: 'dynamodb-local', skip: !ci, ...(ci && { missing: reason }) },
  ];
}

/** Archiver settings that make minutes pass in milliseconds. */
export const FAST_CONFIG: Record<string, string> = {
  FIRST_LOOK_MS: '1000',
  LOOK_INTERVAL_MS: '300',
  NOT_FOUND_GRACE_MS: '500',
  SUBMIT_STALE_MS: '30000',
  SWEEP_SAFETY_MS: '1000',
  LOG_LEVEL: 'silent',
};

/** Emulator settings that make the upstream's seconds pass in milliseconds. */
export const FAST_EMULATOR: EmulatorOptions = {
  jobDurationMs: 50,
  startDelayMs: 5,
  workers: 16,
  webhookRetryDelayMs: 200,
  webhookTimeoutMs: 2000,
};

export const SWEEP_INTERVAL_MS = 250;

export interface E2eStack {
  stack: LocalStack;
  api: ArchiverApi;
  dataDir: string;
  stop(): Promise<void>;
}

const tempDirs: string[] = [];

/** A fresh folder under the OS temp dir; removeTempDirs() deletes them all. */
export async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archiver-e2e-'));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export interface E2eStackOptions {
  dataDir?: string;
  /** Keep DynamoDB on disk (restart tests); default in memory. */
  persistent?: boolean;
  config?: Record<string, string>;
  emulator?: EmulatorOptions;
  upstream?: LocalStackOptions['upstream'];
  port?: number;
}

/** Starts the whole local stack on 127.0.0.1 (free ports) against the chosen DynamoDB server. */
export async function startE2eStack(server: DynamoServer, options: E2eStackOptions = {}): Promise<E2eStack> {
  const dataDir = options.dataDir ?? (await tempDataDir());
  const stack = await startLocalStack({
    port: options.port ?? 0,
    host: '127.0.0.1',
    dataDir,
    dynamo: server,
    ...(!options.persistent && { dynamoInMemory: true }),
    sweepIntervalMs: SWEEP_INTERVAL_MS,
    config: { ...FAST_CONFIG, ...options.config },
    ...(options.upstream
      ? { upstream: options.upstream }
      : { emulator: { ...FAST_EMULATOR, ...options.emulator } }),
  });
  return { stack, api: new ArchiverApi(stack.url), dataDir, stop: () => stack.stop() };
}

/**
 * One runsync job through the whole path (submit, upstream, capture, archive, read back), so that a cold
 * DynamoDB Local JVM is warm before tests whose assertions depend on which capture path wins.
 */
export async function warmUp(api: ArchiverApi): Promise<void> {
  const res = await api.submit({ input: { prompt: 'warm-up' }, sync: true });
  if (res.status !== 200) throw new Error(`warm-up job answered ${res.status}: ${JSON.stringify(res.body)}`);
  await api.waitForState(res.body.job.jobId, ['ARCHIVED']);
}

/** The stack's own emulator (stacks started without `upstream` have one). */
export function emulatorOf(stack: LocalStack): Emulator {
  if (!stack.emulator) throw new Error('this stack talks to an external upstream');
  return stack.emulator;
}

/** Job events the stack published (local mode keeps them in memory). */
export function publishedEvents(stack: LocalStack): LocalEventPublisher['published'] {
  const events = stack.runtime.events;
  if (!(events instanceof LocalEventPublisher)) throw new Error('the stack does not publish locally');
  return events.published;
}

/** The job events of one type published for a job, once at least one is (publishing follows the audit write). */
export async function awaitPublished(
  stack: LocalStack,
  jobId: string,
  type: LocalEventPublisher['published'][number]['type'],
  timeoutMs = WAIT_CAP_MS,
): Promise<LocalEventPublisher['published']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = publishedEvents(stack).filter((e) => e.detail.jobId === jobId && e.type === type);
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} event published for job ${jobId}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Keys of every object under a prefix of the archive bucket, read from s3rver with the real SDK. */
export async function archiveKeys(stack: LocalStack, prefix: string): Promise<string[]> {
  const s3 = createS3Client({
    endpoint: stack.stores.s3Endpoint,
    region: stack.stores.region,
    credentials: stack.stores.credentials,
  });
  try {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: LOCAL_BUCKET, Prefix: prefix }));
    return (out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
  } finally {
    s3.destroy();
  }
}

/** The job's folder in the archive: `jobs/yyyy/mm/dd/{jobId}/`. */
export function jobPrefix(resultOrInputKey: string): string {
  return resultOrInputKey.slice(0, resultOrInputKey.lastIndexOf('/') + 1);
}

/** Calls the emulator's API directly, as a client that bypasses the archiver would. */
export async function callEmulator(
  emulator: Emulator,
  endpointId: string,
  operation: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${emulator.baseUrlFor(endpointId)}/${operation}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as unknown };
}
