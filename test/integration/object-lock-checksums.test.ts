// S3 with Object Lock default retention refuses writes without a checksum header: a double enforcing that rule
// in front of s3rver proves every PutObject and UploadPart the archive store sends carries one, unchunked.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/adapters/aws-clients.ts';
import { S3ArchiveStore } from '../../functions/adapters/s3-archive-store.ts';
import {
  ensureBucket,
  type RunningStore,
  S3RVER_CREDENTIALS,
  startS3rver,
} from '../../local/stores/index.ts';

const BUCKET = 'locked-archive';

/** The rule S3 applies on a bucket with default retention, at the HTTP layer, for PutObject and UploadPart. */
function refusal(method: string, url: URL, headers: Record<string, string | string[] | undefined>) {
  if (method !== 'PUT' || url.pathname.split('/').filter(Boolean).length < 2) return undefined; // bucket ops
  if (url.searchParams.has('uploadId') && !url.searchParams.has('partNumber')) return undefined;
  const names = Object.keys(headers);
  // s3rver would store aws-chunked framing as object bytes: a checksum sent as a trailer counts as none here.
  const chunked =
    String(headers['content-encoding'] ?? '').includes('aws-chunked') ||
    String(headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-');
  if (chunked) return 'aws-chunked body: a checksum trailer s3rver cannot read';
  if (names.includes('content-md5') || names.some((n) => n.startsWith('x-amz-checksum-'))) return undefined;
  return 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters';
}

/** Forwards to s3rver, refusing like S3 would; remembers what it saw. */
function objectLockDouble(target: string): Promise<{ server: Server; endpoint: string; seen: string[] }> {
  const upstream = new URL(target);
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const reason = refusal(req.method ?? '', url, req.headers);
    seen.push(
      `${req.method} ${url.searchParams.has('partNumber') ? 'part' : 'object'} ${reason ? 'refused' : 'ok'}`,
    );
    if (reason) {
      req.resume();
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><Error><Code>InvalidRequest</Code><Message>${reason}</Message></Error>`);
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, endpoint: `http://127.0.0.1:${port}`, seen });
    }),
  );
}

describe('archive writes under an Object Lock default retention', () => {
  let dir: string;
  let s3rver: RunningStore;
  let double: Awaited<ReturnType<typeof objectLockDouble>>;
  const target = () => ({ endpoint: double.endpoint, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archiver-lock-'));
    s3rver = await startS3rver({ directory: dir });
    double = await objectLockDouble(s3rver.endpoint);
    await ensureBucket(createS3Client(target()), BUCKET);
  });

  afterAll(async () => {
    await new Promise((resolve) => double.server.close(resolve));
    await s3rver.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // The emulator settings (checksums only when required) and the SDK's defaults (as in Lambda).
  const clients = {
    emulator: () => createS3Client(target()),
    'SDK default': () => new S3Client({ ...target(), forcePathStyle: true }),
  };

  it('refuses a PutObject without a checksum header (the double enforces the rule)', async () => {
    const bare = createS3Client(target());
    await expect(
      bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'jobs/bare', Body: Buffer.from('x') })),
    ).rejects.toThrow(/Content-MD5 OR x-amz-checksum-/);
  });

  it.each(Object.entries(clients))(
    'accepts the store single put and multipart upload (%s client)',
    async (_, make) => {
      const client = make();
      const store = new S3ArchiveStore({ client, bucket: BUCKET });
      const small = Buffer.from('{"result":"small"}');
      const big = [Buffer.from('{"s":"'), Buffer.alloc(17 * 1024 * 1024, 0x61), Buffer.from('"}')];
      const before = double.seen.length;
      await store.putJson(`jobs/${_}/small.json`, small);
      await store.putJson(`jobs/${_}/big.json`, big);
      const seen = double.seen.slice(before);
      expect(seen.filter((s) => s.includes('refused'))).toEqual([]);
      expect(seen.filter((s) => s.startsWith('PUT part'))).toHaveLength(3);
      // The bytes stored are the bytes sent: no aws-chunked framing in the object.
      const read = async (key: string) =>
        Buffer.from(
          await ((
            await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
          ).Body?.transformToByteArray() ?? new Uint8Array()),
        );
      expect((await read(`jobs/${_}/small.json`)).equals(small)).toBe(true);
      expect((await read(`jobs/${_}/big.json`)).equals(Buffer.concat(big))).toBe(true);
    },
  );
});
