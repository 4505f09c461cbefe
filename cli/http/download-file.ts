// Streams one presigned archive URL to a file (via a .part file renamed at the end), counting bytes as they land.
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
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
  // A leftover .part (or a link planted in its place) is removed, never followed: rm() on a symlink removes
  // the link; O_EXCL|O_NOFOLLOW then refuses anything that appears there in between.
  await rm(part, { force: true });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(
      part,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
  } catch (err) {
    throw new CliError(
      `cannot create ${part}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      EXIT.usage,
    );
  }
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
      handle.createWriteStream(),
      { signal },
    );
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(part, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && LOCAL_WRITE_ERRORS.has(code))
      throw new CliError(`cannot write ${part}: ${code}`, EXIT.usage);
    throw errorFromFetchFailure(err, what, options.timeoutMs, []);
  }
  await rename(part, path);
  return bytes;
}
