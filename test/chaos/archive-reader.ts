// Reads what the archiver stored for a job: result.json through the real S3 API, object keys from s3rver's folder.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import type { CleanView } from './system.ts';

export interface StoredResult {
  bytes: Buffer;
  archive: Record<string, unknown>;
  /** The status object's bytes exactly as stored (between `"status":` and the closing brace). */
  statusText: string;
  status: { id?: unknown; status?: unknown; output?: unknown; error?: unknown };
}

const STATUS_FIELD = ',"status":';

export async function readObject(view: CleanView, key: string): Promise<Buffer | undefined> {
  try {
    const out = await view.s3.send(new GetObjectCommand({ Bucket: view.bucket, Key: key }));
    return out.Body ? Buffer.from(await out.Body.transformToByteArray()) : undefined;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Splits result.json (`{"archive":{...},"status":<bytes>}` + newline) into its parts. */
export function parseResult(bytes: Buffer): StoredResult {
  const text = bytes.toString('utf8');
  const doc = JSON.parse(text) as { archive: Record<string, unknown>; status: StoredResult['status'] };
  const at = text.indexOf(STATUS_FIELD);
  const end = text.endsWith('}\n') ? text.length - 2 : text.length - 1;
  return {
    bytes,
    archive: doc.archive,
    status: doc.status,
    statusText: text.slice(at + STATUS_FIELD.length, end),
  };
}

/** Every object key under a job's folder, as s3rver keeps them (`<key>._S3rver_object` files). */
export async function objectKeysUnder(dataDir: string, bucket: string, prefix: string): Promise<string[]> {
  const folder = join(dataDir, 's3', bucket, prefix);
  let names: string[];
  try {
    names = await readdir(folder, { recursive: true });
  } catch {
    return [];
  }
  const suffix = '._S3rver_object';
  return names
    .filter((name) => name.endsWith(suffix))
    .map((name) => `${prefix}${name.slice(0, -suffix.length).split('\\').join('/')}`)
    .sort();
}

/** `jobs/yyyy/mm/dd/{jobId}/` of a key inside it. */
export const folderOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1);
