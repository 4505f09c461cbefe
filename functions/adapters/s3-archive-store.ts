// ArchiveStore on S3: small objects in one PUT, large ones streamed as multipart, GETs presigned.
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArchiveStore, StoredObject } from '../core/ports.ts';

/** Above this a body goes up as a multipart upload in parts of this size. */
const MULTIPART_THRESHOLD = 8 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;

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

  async putBinary(key: string, body: Uint8Array, contentType: string): Promise<StoredObject> {
    return this.put(key, [body], contentType);
  }

  async presignGet(key: string, ttlSeconds: number, downloadName?: string): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(downloadName && {
        ResponseContentDisposition: `attachment; filename="${downloadName.replace(/"/g, '')}"`,
      }),
    });
    return getSignedUrl(this.s3, command, { expiresIn: ttlSeconds });
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
          Metadata: metadata,
        }),
      );
      return { key, bytes };
    }
    // The chunks stream through Upload as they are; Upload slices parts without joining the whole body.
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: Readable.from(chunks, { objectMode: false }),
        ContentType: contentType,
        Metadata: metadata,
      },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
    return { key, bytes };
  }
}
