// Streams one presigned archive URL to a file (via a .part file renamed at the end), counting bytes as they land.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ApiError, CliError, EXIT } from '../errors.ts';
import { errorFromFetchFailure } from './errors.ts';

/** Failures of our own disk, not of the network. */
const LOCAL_WRITE_ERRORS = new Set(['EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'EISDIR', 'ENOTDIR', 'EDQUOT']);

export interface DownloadOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** Called with the bytes written so far. */
  onBytes(bytes: number): void;
  /** Names the file in messages. */
  label: string;
  fetch?: typeof fetch;
}

/** Returns the number of bytes written. Presigned URLs carry their own auth: no header is added. */
export async function downloadToFile(url: string, path: string, options: DownloadOptions): Promise<number> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const what = `the archive (downloading ${options.label})`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { signal });
  } catch (err) {
    throw errorFromFetchFailure(err, what, options.timeoutMs, []);
  }
  if (!response.ok || response.body === null) {
    const text = (await response.text().catch(() => '')).slice(0, 300);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new ApiError(
      `download of ${options.label} failed: ${response.status}${code ? ` ${code}` : ''}`,
      EXIT.api,
      response.status,
      code,
      {},
      response.status === 403
        ? ['download links expire (PRESIGN_TTL_SECONDS); run the command again for fresh ones']
        : [],
    );
  }
  const part = `${path}.part`;
  let bytes = 0;
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      async function* count(source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          bytes += chunk.length;
          options.onBytes(bytes);
          yield chunk;
        }
      },
      createWriteStream(part),
      { signal },
    );
  } catch (err) {
    await rm(part, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && LOCAL_WRITE_ERRORS.has(code))
      throw new CliError(`cannot write ${part}: ${code}`, EXIT.usage);
    throw errorFromFetchFailure(err, what, options.timeoutMs, []);
  }
  await rename(part, path);
  return bytes;
}
