// ArchiveStore on S3: small objects in one PUT, large ones streamed as multipart, GETs presigned (or read, JSON).
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArchiveStore, StoredObject } from '../core/ports.ts';

/** Above this a body goes up as a multipart upload in parts of this size. */
const MULTIPART_THRESHOLD = 8 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;
/** S3's smallest part but the last. */
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Parts in flight at once: a single stream leaves most of the bandwidth unused. */
const PART_CONCURRENCY = 2;

export interface S3ArchiveStoreOptions {
  client: S3Client;
  bucket: string;
}

export class S3ArchiveStore implements ArchiveStore {
  private readonly s3: S3Client;
  private readonly bucket: string;

  constructor(options: S3ArchiveStoreOptions) {
    this.s3 = options.client;
    this.bucket = options.bucket;
  }

  async putJson(
    key: string,
    body: Uint8Array | readonly Uint8Array[],
    metadata?: Record<string, string>,
  ): Promise<StoredObject> {
    const chunks = body instanceof Uint8Array ? [body] : body;
    return this.put(key, chunks, 'application/json', metadata);
  }

  async putBinary(
    key: string,
    body: Uint8Array | readonly Uint8Array[],
    contentType: string,
  ): Promise<StoredObject> {
    return this.put(key, body instanceof Uint8Array ? [body] : body, contentType);
  }

  async readJson(key: string): Promise<unknown> {
    try {
      const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse((await answer.Body?.transformToString('utf8')) ?? 'null');
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async presignGet(key: string, ttlSeconds: number, downloadName?: string): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(downloadName && {
        ResponseContentDisposition: `attachment; filename="${downloadName.replace(/"/g, '')}"`,
      }),
    });
    return getSignedUrl(this.s3, command, { expiresIn: await this.presignLifetime(ttlSeconds) });
  }

  /**
   * A presigned URL stops working when the credentials that signed it expire (a Lambda role's do within
   * hours), so promising longer would hand out links that die early: cap the TTL at what they have left.
   */
  private async presignLifetime(ttlSeconds: number): Promise<number> {
    const provider = this.s3.config.credentials;
    const credentials = typeof provider === 'function' ? await provider() : undefined;
    const expiration = credentials?.expiration?.getTime();
    if (expiration === undefined) return ttlSeconds;
    const leftSeconds = Math.floor((expiration - Date.now()) / 1000);
    return Math.max(1, Math.min(ttlSeconds, leftSeconds));
  }

  private async put(
    key: string,
    chunks: readonly Uint8Array[],
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<StoredObject> {
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    if (bytes <= MULTIPART_THRESHOLD) {
      // One small copy is cheaper than a multipart session; large bodies never take this path.
      const body = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: bytes,
          ContentMD5: contentMd5([body]),
          Metadata: metadata,
        }),
      );
      return { key, bytes };
    }
    await this.multipart(key, chunks, contentType, metadata);
    return { key, bytes };
  }

  /**
   * Parts are views over the chunks (a status body arrives in part-sized blocks), uploaded a few at a time;
   * only a part edge that falls inside a small chunk joins one part's worth of bytes.
   */
  private async multipart(
    key: string,
    chunks: readonly Uint8Array[],
    contentType: string,
    metadata?: Record<string, string>,
  ): Promise<void> {
    const target = { Bucket: this.bucket, Key: key };
    const { UploadId } = await this.s3.send(
      new CreateMultipartUploadCommand({ ...target, ContentType: contentType, Metadata: metadata }),
    );
    try {
      const parts: Array<{ ETag: string | undefined; PartNumber: number }> = [];
      const source = partsOf(chunks, PART_SIZE, MIN_PART_SIZE);
      let next = 1;
      let failed = false;
      const worker = async () => {
        for (let item = source.next(); !item.done && !failed; item = source.next()) {
          const body = item.value;
          const PartNumber = next++;
          const out = await this.s3.send(
            new UploadPartCommand({
              ...target,
              UploadId,
              PartNumber,
              Body: body,
              ContentLength: body.length,
              ContentMD5: contentMd5([body]),
            }),
          );
          parts.push({ ETag: out.ETag, PartNumber });
        }
      };
      // Every worker settles before an abort, so no part lands after it; the first failure stops the rest.
      const settled = await Promise.allSettled(
        Array.from({ length: PART_CONCURRENCY }, () =>
          worker().catch((err: unknown) => {
            failed = true;
            throw err;
          }),
        ),
      );
      const failure = settled.find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
      parts.sort((a, b) => a.PartNumber - b.PartNumber);
      await this.s3.send(
        new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }),
      );
    } catch (err) {
      // Leave no orphaned parts behind to be billed; the caller retries the whole object.
      await this.s3.send(new AbortMultipartUploadCommand({ ...target, UploadId })).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Splits the chunks into parts of about `size` bytes without copying whole chunks: a part ends at a chunk's
 * end once it holds `minSize` bytes, so parts may run to `size + minSize`; chunks over `size` are cut.
 * Every part but the last holds at least `minSize` (S3's minimum is 5 MiB).
 */
export function* partsOf(chunks: readonly Uint8Array[], size: number, minSize = size): Generator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const part = pending.length === 1 && pending[0] ? pending[0] : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return part;
  };
  for (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; offset += size) {
      const piece = chunk.subarray(offset, offset + size);
      if (pendingBytes >= minSize && pendingBytes + piece.length > size) yield flush();
      pending.push(piece);
      pendingBytes += piece.length;
      if (pendingBytes >= size) yield flush();
    }
  }
  if (pendingBytes > 0) yield flush();
}

/**
 * Content-MD5 of a body, base64. S3 refuses any PutObject or UploadPart without Content-MD5 or an
 * x-amz-checksum-* header on a bucket with Object Lock default retention; a header computed here needs no
 * aws-chunked trailer (which s3rver would store as object bytes), so the same request works everywhere.
 */
export function contentMd5(chunks: readonly Uint8Array[]): string {
  const hash = createHash('md5');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('base64');
}
