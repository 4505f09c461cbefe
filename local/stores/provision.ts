// Creates the jobs table and the archive bucket when missing, the way CDK would have in AWS.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  HeadBucketCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createTableInput, TTL_ATTRIBUTE } from '../../functions/adapters/table-definition.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the table and every index are ACTIVE (polling fast: the SDK waiter's minimum delay is 20 s). */
async function waitActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

export interface EnsureTableOptions {
  /** Enable TTL on the expiry attribute. Off for dynalite, which has no UpdateTimeToLive. */
  ttl: boolean;
  timeoutMs?: number;
}

/** Creates the table (every index) when missing, waits for ACTIVE; true when it was created now. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: EnsureTableOptions,
): Promise<boolean> {
  let created = false;
  if (!(await tableExists(client, tableName))) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      created = true;
    } catch (error) {
      // Another process created it between our check and create: theirs is as good as ours.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitActive(client, tableName, options.timeoutMs ?? 30_000);
  if (options.ttl) await enableTtl(client, tableName);
  return created;
}

/** Best effort: TTL only deletes idempotency records, so a store that cannot do it is still usable. */
async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const current = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = current.TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch {
    // Unsupported by this store (or already being changed): local data simply never expires.
  }
}

/** Creates the bucket when missing; true when it was created now. */
export async function ensureBucket(client: S3Client, bucketName: string, region?: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucketName }));
    return false;
  } catch (error) {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status !== 404) throw error;
  }
  try {
    // Real S3 outside us-east-1 requires the location; emulators ignore it.
    const location =
      region !== undefined && region !== 'us-east-1'
        ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
        : {};
    await client.send(new CreateBucketCommand({ Bucket: bucketName, ...location }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou') return false;
    throw error;
  }
}
