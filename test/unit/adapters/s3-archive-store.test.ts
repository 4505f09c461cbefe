import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { partsOf, S3ArchiveStore } from '../../../functions/adapters/s3-archive-store.ts';

const client = new S3Client({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
});
const s3 = mockClient(client);
const store = new S3ArchiveStore({ client, bucket: 'archive' });

describe('S3ArchiveStore', () => {
  beforeEach(() => s3.reset());

  it('writes a small JSON document in one PUT with its length and type', async () => {
    s3.on(PutObjectCommand).resolves({});
    const stored = await store.putJson('jobs/k.json', [Buffer.from('{"a":'), Buffer.from('1}')], {
      'job-id': 'j',
    });
    expect(stored).toEqual({ key: 'jobs/k.json', bytes: 7 });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'archive',
      Key: 'jobs/k.json',
      ContentType: 'application/json',
      ContentLength: 7,
      Metadata: { 'job-id': 'j' },
    });
  });

  it('streams a large document as a multipart upload', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const big = Buffer.alloc(20 * 1024 * 1024, 0x61);
    const stored = await store.putJson('jobs/big.json', [Buffer.from('{"s":"'), big, Buffer.from('"}')]);
    expect(stored.bytes).toBe(big.length + 8);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
    const parts = s3.commandCalls(UploadPartCommand);
    expect(parts.length).toBe(3);
    const sent = parts.reduce((n, p) => n + (p.args[0].input.Body as Buffer).length, 0);
    expect(sent).toBe(big.length + 8);
  });

  it('aborts the multipart upload when a part fails, leaving no billed parts behind', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u2' });
    s3.on(UploadPartCommand).rejects(new Error('SlowDown'));
    s3.on(AbortMultipartUploadCommand).resolves({});
    await expect(store.putJson('jobs/big.json', [Buffer.alloc(12 * 1024 * 1024)])).rejects.toThrow(
      'SlowDown',
    );
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      UploadId: 'u2',
      Key: 'jobs/big.json',
    });
  });

  it('cuts parts as views over the chunks, joining only where a small chunk sits at a part edge', () => {
    const prefix = Buffer.from('ab');
    const blocks = [Buffer.alloc(8, 1), Buffer.alloc(8, 2), Buffer.alloc(3, 3)];
    const chunks = [prefix, ...blocks, Buffer.from('cd')];
    const parts = [...partsOf(chunks, 8, 5)];
    expect(parts.map((p) => p.length)).toEqual([10, 8, 5]);
    expect(Buffer.concat(parts).equals(Buffer.concat(chunks))).toBe(true);
    // The middle part is a whole block: a view over the same memory, not a copy.
    expect(parts[1]?.buffer).toBe(blocks[1]?.buffer);
    // Chunks larger than a part are cut; every part but the last holds at least the minimum.
    const cut = [...partsOf([Buffer.alloc(20)], 8, 5)].map((p) => p.length);
    expect(cut).toEqual([8, 8, 4]);
  });

  it('presigns a GET for the given lifetime', async () => {
    const url = new URL(await store.presignGet('jobs/k.json', 300, 'k.json'));
    expect(url.pathname).toContain('jobs/k.json');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('response-content-disposition')).toBe('attachment; filename="k.json"');
  });

  it('never promises a link longer than the signing credentials live', async () => {
    const expiring = new S3Client({
      region: 'eu-west-1',
      credentials: async () => ({
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token',
        expiration: new Date(Date.now() + 120_000),
      }),
    });
    const url = new URL(
      await new S3ArchiveStore({ client: expiring, bucket: 'archive' }).presignGet('jobs/k', 900),
    );
    const expires = Number(url.searchParams.get('X-Amz-Expires'));
    expect(expires).toBeLessThanOrEqual(120);
    expect(expires).toBeGreaterThan(60);
  });

  it('sends a Content-MD5 with every PutObject and UploadPart (Object Lock default retention requires one)', async () => {
    s3.on(PutObjectCommand).resolves({});
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u3' });
    s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    await store.putBinary('jobs/a.png', Buffer.from('png'), 'image/png');
    await store.putJson('jobs/big.json', [Buffer.alloc(9 * 1024 * 1024, 0x62)]);
    const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.ContentMD5).toBe(md5(Buffer.from('png')));
    const parts = s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.ContentMD5).toBe(md5(part.Body as Buffer));
  });
});
