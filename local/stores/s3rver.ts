// s3rver in-process: S3's wire protocol over a data folder (objects are plain files, so they survive restarts).
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import type { AwsCredentials } from '../../functions/adapters/aws-clients.ts';
import { closeServer, type RunningStore } from './net.ts';
import { guardWithSigV4 } from './sigv4-guard.ts';

/** s3rver's built-in key pair; it never checks SigV4 signatures itself, so local mode guards it (credentials). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3rverOptions {
  directory: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When given, every request must be SigV4-signed with this pair (verified before s3rver sees it). */
  credentials?: AwsCredentials;
  /** Further pairs accepted (see GuardOptions.trusted). */
  trusted?: ReadonlyMap<string, AwsCredentials>;
}

export async function startS3rver(options: S3rverOptions): Promise<RunningStore> {
  const { directory, host = '127.0.0.1', port = 0, credentials, trusted } = options;
  await mkdir(directory, { recursive: true });
  // vhostBuckets off: clients use path-style URLs against a bare IP, and a bucket-looking Host header must
  // never be taken for a bucket name.
  const server = new S3rver({ address: host, port, directory, silent: true, vhostBuckets: false });
  const address = await server.run();
  const { httpServer } = server;
  if (httpServer === undefined) throw new Error('s3rver did not start its HTTP server');
  if (credentials !== undefined) {
    DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
    guardWithSigV4(httpServer, { credentials, service: 's3', ...(trusted && { trusted }) });
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { endpoint: `http://${urlHost}:${address.port}`, stop: () => closeServer(httpServer) };
}
