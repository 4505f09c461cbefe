// Local stores against real servers: provisioning, SDK round trips, streamed multipart uploads, restarts, DynamoDB Local.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createS3Client,
  getDynamoDocumentClient,
  getS3Client,
  resetAwsClients,
} from '../../functions/adapters/aws-clients.ts';
import { TABLE_INDEXES, TTL_ATTRIBUTE } from '../../functions/adapters/table-definition.ts';
import {
  checkJava,
  dataFolderCredentials,
  type LocalStores,
  STORE_CREDENTIALS_FILE,
  startLocalStores,
} from '../../local/stores/index.ts';

const TABLE = 'jobs-test';
const BUCKET = 'archive-test';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archiver-stores-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function clientsFor(stores: LocalStores): { dynamo: DynamoDBClient; s3: S3Client } {
  const target = { region: stores.region, credentials: stores.credentials };
  return {
    dynamo: createDynamoClient({ ...target, endpoint: stores.dynamoEndpoint }),
    s3: createS3Client({ ...target, endpoint: stores.s3Endpoint }),
  };
}

async function expectTableShape(dynamo: DynamoDBClient): Promise<void> {
  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: TABLE }));
  expect(Table?.TableStatus).toBe('ACTIVE');
  expect(Table?.KeySchema).toEqual([
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ]);
  const indexes = Object.fromEntries((Table?.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i]));
  for (const index of Object.values(TABLE_INDEXES)) {
    expect(indexes[index.name]?.IndexStatus).toBe('ACTIVE');
    expect(indexes[index.name]?.KeySchema).toEqual([
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ]);
    // The sweeper reads whole jobs from `due`; the listing indexes hold keys only (read back by BatchGetItem).
    expect(indexes[index.name]?.Projection?.ProjectionType).toBe(index.name === 'due' ? 'ALL' : 'KEYS_ONLY');
  }
}

/** A stream of `size` random bytes in uneven chunks, with unknown length: forces lib-storage multipart. */
function randomStream(size: number): { stream: Readable; sha256: string } {
  const data = randomBytes(size);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < size; ) {
    const length = Math.min(size - offset, 700_001);
    chunks.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return { stream: Readable.from(chunks), sha256: createHash('sha256').update(data).digest('hex') };
}

async function objectSha256(s3: S3Client, key: string): Promise<{ sha256: string; size: number }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  if (bytes === undefined) throw new Error('no body');
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

describe('dynalite + s3rver (the embedded default)', () => {
  let dataDir: string;
  let stores: LocalStores | undefined;
  let uploaded: { sha256: string; size: number };

  beforeAll(async () => {
    dataDir = await tempDir();
  });
  afterAll(async () => {
    await stores?.stop();
  });

  it('starts on 127.0.0.1 with the table, its indexes and the bucket', async () => {
    const started = performance.now();
    stores = await startLocalStores({ dataDir, tableName: TABLE, bucketName: BUCKET });
    console.info(
      `dynalite+s3rver ready in ${Math.round(performance.now() - started)} ms`,
      JSON.stringify(stores.timings),
    );
    expect(stores.dynamoEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stores.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stores.dynamoKind).toBe('dynalite');
    const { dynamo, s3 } = clientsFor(stores);
    await expectTableShape(dynamo);
    await expect(s3.send(new HeadBucketCommand({ Bucket: BUCKET }))).resolves.toBeDefined();
    dynamo.destroy();
    s3.destroy();
  });

  it('round-trips items through the document client (undefined fields removed)', async () => {
    if (stores === undefined) throw new Error('stores not started');
    const doc = createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: 'JOB#1',
          sk: 'JOB',
          state: 'PENDING',
          optional: undefined,
          nested: { a: 1, b: undefined },
        },
      }),
    );
    const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'JOB#1', sk: 'JOB' } }));
    expect(Item).toEqual({ pk: 'JOB#1', sk: 'JOB', state: 'PENDING', nested: { a: 1 } });
    doc.destroy();
  });

  it('stores a streamed multipart upload byte for byte (checksum settings)', async () => {
    if (stores === undefined) throw new Error('stores not started');
    const { s3 } = clientsFor(stores);
    const { stream, sha256 } = randomStream(12 * 1024 * 1024 + 12_345);
    const upload = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key: 'jobs/big.bin', Body: stream, ContentType: 'application/octet-stream' },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    await upload.done();
    uploaded = await objectSha256(s3, 'jobs/big.bin');
    expect(uploaded).toEqual({ sha256, size: 12 * 1024 * 1024 + 12_345 });

    // A small single-part streamed put too (the path that stored aws-chunked framing before the fix).
    const small = randomStream(100_000);
    await new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key: 'jobs/small.bin', Body: small.stream },
    }).done();
    expect((await objectSha256(s3, 'jobs/small.bin')).sha256).toBe(small.sha256);
    s3.destroy();
  });

  it('keeps items and objects across a restart on the same folder', async () => {
    if (stores === undefined) throw new Error('stores not started');
    await stores.stop();
    const started = performance.now();
    stores = await startLocalStores({ dataDir, tableName: TABLE, bucketName: BUCKET });
    console.info(`dynalite+s3rver restart in ${Math.round(performance.now() - started)} ms`);
    const { dynamo, s3 } = clientsFor(stores);
    const doc = createDynamoDocumentClient(dynamo);
    const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'JOB#1', sk: 'JOB' } }));
    expect(Item?.state).toBe('PENDING');
    expect(await objectSha256(s3, 'jobs/big.bin')).toEqual(uploaded);
    await expectTableShape(dynamo);
    dynamo.destroy();
    s3.destroy();
  });

  it('provisions against given endpoints without starting servers', async () => {
    if (stores === undefined) throw new Error('stores not started');
    const second = await startLocalStores({
      dataDir: await tempDir(),
      tableName: 'jobs-second',
      bucketName: 'archive-second',
      dynamo: { endpoint: stores.dynamoEndpoint },
      s3: { endpoint: stores.s3Endpoint },
      // Those stores accept only their own data folder's key.
      credentials: stores.credentials,
    });
    expect(second.dynamoKind).toBe('external');
    const { dynamo, s3 } = clientsFor(second);
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: 'jobs-second' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'archive-second' }))).resolves.toBeDefined();
    await second.stop(); // stops nothing: the first stores must still answer
    await expect(s3.send(new HeadBucketCommand({ Bucket: BUCKET }))).resolves.toBeDefined();
    dynamo.destroy();
    s3.destroy();
  });

  describe('memoized clients configured only by the standard environment variables', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
      resetAwsClients();
    });

    it('reach the emulators through AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3', async () => {
      if (stores === undefined) throw new Error('stores not started');
      vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', stores.dynamoEndpoint);
      vi.stubEnv('AWS_ENDPOINT_URL_S3', stores.s3Endpoint);
      vi.stubEnv('AWS_ACCESS_KEY_ID', stores.credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', stores.credentials.secretAccessKey);
      vi.stubEnv('AWS_REGION', stores.region);
      resetAwsClients();
      const doc = getDynamoDocumentClient();
      expect(getDynamoDocumentClient()).toBe(doc);
      const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'JOB#1', sk: 'JOB' } }));
      expect(Item?.state).toBe('PENDING');

      const s3 = getS3Client();
      const { stream, sha256 } = randomStream(300_000);
      // A plain streamed PutObject with a known length: corrupt without the emulator checksum settings.
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'env/put.bin', Body: stream, ContentLength: 300_000 }),
      );
      expect((await objectSha256(s3, 'env/put.bin')).sha256).toBe(sha256);
    });
  });
});

// AWS's DynamoDB Local is the reference DynamoDB. Without Java the suite is skipped locally, but a CI run
// must not pass silently without it.
const java = await checkJava();
const requireJava = process.env.CI === 'true';
if (!java.available && !requireJava) {
  console.warn(`Skipping DynamoDB Local tests: ${java.reason}`);
}

describe.skipIf(!java.available && !requireJava)('DynamoDB Local (reference) + s3rver', () => {
  let stores: LocalStores | undefined;
  let dataDir: string;

  afterAll(async () => {
    await stores?.stop();
  });

  it('has Java 17+', () => {
    if (!java.available) throw new Error(`DynamoDB Local needs Java under CI: ${java.reason}`);
    expect(java.version).toBeGreaterThanOrEqual(17);
  });

  it('starts, provisions table + indexes + TTL, and round-trips an item', async () => {
    dataDir = await tempDir();
    const started = performance.now();
    stores = await startLocalStores({
      dataDir,
      tableName: TABLE,
      bucketName: BUCKET,
      dynamo: 'dynamodb-local',
    });
    console.info(
      `DynamoDB Local+s3rver ready in ${Math.round(performance.now() - started)} ms`,
      JSON.stringify(stores.timings),
    );
    expect(stores.dynamoKind).toBe('dynamodb-local');
    const { dynamo, s3 } = clientsFor(stores);
    await expectTableShape(dynamo);
    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: TTL_ATTRIBUTE,
    });
    const doc = createDynamoDocumentClient(dynamo);
    await doc.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'JOB#2', sk: 'JOB', n: 42, gone: undefined } }),
    );
    const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'JOB#2', sk: 'JOB' } }));
    expect(Item).toEqual({ pk: 'JOB#2', sk: 'JOB', n: 42 });
    await expect(s3.send(new HeadBucketCommand({ Bucket: BUCKET }))).resolves.toBeDefined();
    dynamo.destroy();
    s3.destroy();
  });

  it('keeps data across a restart with a dbPath', async () => {
    if (stores === undefined) throw new Error('stores not started');
    await stores.stop();
    stores = await startLocalStores({
      dataDir,
      tableName: TABLE,
      bucketName: BUCKET,
      dynamo: 'dynamodb-local',
    });
    const { dynamo, s3 } = clientsFor(stores);
    const doc = createDynamoDocumentClient(dynamo);
    const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'JOB#2', sk: 'JOB' } }));
    expect(Item?.n).toBe(42);
    dynamo.destroy();
    s3.destroy();
  });

  it('runs in memory too', async () => {
    const memory = await startLocalStores({
      dataDir: await tempDir(),
      tableName: TABLE,
      bucketName: BUCKET,
      dynamo: 'dynamodb-local',
      dynamoInMemory: true,
    });
    try {
      const { dynamo } = clientsFor(memory);
      await expectTableShape(dynamo);
      dynamo.destroy();
    } finally {
      await memory.stop();
    }
  });
});

describe('embedded stores are closed to anyone without the data folder key (F3)', () => {
  let stores: LocalStores;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tempDir();
    stores = await startLocalStores({ dataDir, tableName: TABLE, bucketName: BUCKET, dynamoInMemory: true });
    const { s3 } = clientsFor(stores);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/result.json', Body: '{"ok":true}' }));
    s3.destroy();
  });
  afterAll(async () => {
    await stores?.stop();
  });

  it('keeps a generated key pair in the data folder, private to its owner, and reuses it', async () => {
    const file = join(dataDir, STORE_CREDENTIALS_FILE);
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect(stores.credentials).toMatchObject(JSON.parse(await readFile(file, 'utf8')));
    expect(stores.credentials.accessKeyId).not.toBe('S3RVER');
    expect(stores.credentials).toMatchObject(dataFolderCredentials(dataDir));
  });

  it('refuses anonymous S3 reads and writes and anything signed with another key', async () => {
    const url = `${stores.s3Endpoint}/${BUCKET}/a/result.json`;
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(`${stores.s3Endpoint}/${BUCKET}`)).status).toBe(403);
    expect((await fetch(url, { method: 'PUT', body: '{"forged":true}' })).status).toBe(403);
    const forged = createS3Client({
      endpoint: stores.s3Endpoint,
      region: stores.region,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await expect(
      forged.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/result.json', Body: 'forged' })),
    ).rejects.toThrow();
    const wrongSecret = createS3Client({
      endpoint: stores.s3Endpoint,
      region: stores.region,
      credentials: { accessKeyId: stores.credentials.accessKeyId, secretAccessKey: 'guessed' },
    });
    await expect(
      wrongSecret.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/result.json' })),
    ).rejects.toThrow();
    forged.destroy();
    wrongSecret.destroy();
    const { s3 } = clientsFor(stores);
    const kept = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/result.json' }));
    expect(await kept.Body?.transformToString()).toBe('{"ok":true}');
    s3.destroy();
  });

  it('serves its own presigned links, but not one whose query was changed (no text/html override)', async () => {
    const { s3 } = clientsFor(stores);
    const link = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'a/result.json' }), {
      expiresIn: 60,
    });
    const good = await fetch(link);
    expect(good.status).toBe(200);
    expect(await good.text()).toBe('{"ok":true}');
    expect((await fetch(`${link}&response-content-type=text%2Fhtml`)).status).toBe(403);
    s3.destroy();
  });

  it('refuses DynamoDB calls with made-up credentials', async () => {
    const made = createDynamoClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'whatever' },
    });
    await expect(made.send(new ScanCommand({ TableName: TABLE }))).rejects.toThrow(
      /credentials of its data folder/,
    );
    made.destroy();
    const unsigned = await fetch(stores.dynamoEndpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
      },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    const { dynamo } = clientsFor(stores);
    await expect(dynamo.send(new ScanCommand({ TableName: TABLE }))).resolves.toBeDefined();
    dynamo.destroy();
  });
});
