// Reading a status body as it streams in: kept in large blocks for the archive, parsed lean on the way.
import { UpstreamInvalidResponseError } from '../../core/errors.ts';
import { LeanJsonError, LeanJsonParser } from './lean-json.ts';

/**
 * Output strings longer than this are left in the raw bytes (or decoded, for images) rather than materialised:
 * nothing capture reads is that long (URLs it fetches are at most 4 KiB), and a 20 MiB output would otherwise
 * be held as bytes, as text and as a parsed value at once.
 */
export const LEAN_STRING_BYTES = 64 * 1024;
/**
 * The body is copied into blocks this large as it arrives, so the archive uploads it in a few large parts
 * without joining them, and the network's small chunks are freed at once.
 */
export const BODY_BLOCK_BYTES = 8 * 1024 * 1024;

export interface StatusBody {
  /** The parsed value; lean (some output strings stand in for their text) when `lean` is true. */
  json: unknown;
  lean: boolean;
  /** The body's exact bytes, in blocks. */
  raw: readonly Uint8Array[];
  bytes: number;
}

/**
 * Reads `response`'s body once, with a fatal UTF-8 decode and a lean JSON parse running chunk by chunk, so a
 * large body is held once, in blocks, with no text or value copy of it beside.
 */
export async function readStatusBody(operation: string, response: Response): Promise<StatusBody> {
  const declared = Number(response.headers.get('content-length'));
  let left = Number.isSafeInteger(declared) && declared > 0 ? declared : undefined;
  const parser = new LeanJsonParser({ leanBytes: LEAN_STRING_BYTES });
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const blocks: Uint8Array[] = [];
  let block: Buffer | undefined;
  let used = 0;
  let bytes = 0;
  const seal = () => {
    if (block && used > 0) blocks.push(block.subarray(0, used));
    block = undefined;
    used = 0;
  };
  const feed = (view: Uint8Array) => {
    try {
      utf8.decode(view, { stream: true });
    } catch {
      throw new UpstreamInvalidResponseError(operation, 'body is not UTF-8');
    }
    parser.write(view);
  };
  try {
    const reader = response.body?.getReader();
    for (;;) {
      const next = reader ? await reader.read() : { done: true as const, value: undefined };
      if (next.done) break;
      const chunk = next.value;
      bytes += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        if (!block) {
          // A declared length sizes the last block exactly; a length that lies only costs an extra block.
          block = Buffer.allocUnsafe(
            left !== undefined && left > 0 ? Math.min(left, BODY_BLOCK_BYTES) : BODY_BLOCK_BYTES,
          );
        }
        const take = Math.min(block.length - used, chunk.length - at);
        block.set(chunk.subarray(at, at + take), used);
        const view = block.subarray(used, used + take);
        used += take;
        at += take;
        if (left !== undefined) left -= take;
        feed(view);
        if (used === block.length) seal();
      }
    }
    seal();
    try {
      utf8.decode();
    } catch {
      throw new UpstreamInvalidResponseError(operation, 'body is not UTF-8');
    }
    return { json: parser.end(), lean: parser.lean, raw: blocks, bytes };
  } catch (err) {
    if (!(err instanceof LeanJsonError)) throw err;
    const head = Buffer.concat(
      blocks.length > 0 ? [blocks[0] as Uint8Array] : block ? [block.subarray(0, used)] : [],
    );
    const text = head.subarray(0, 200).toString('utf8');
    throw new UpstreamInvalidResponseError(operation, `not JSON (${err.message}): ${JSON.stringify(text)}`);
  }
}
