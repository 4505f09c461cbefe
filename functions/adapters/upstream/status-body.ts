// Reading a status body as it streams in: kept in large blocks for the archive, parsed lean on the way.
import { isUtf8 } from 'node:buffer';
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
/** How much of a body that is not JSON its error quotes. */
const EXCERPT_BYTES = 200;

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
export async function readStatusBody(
  operation: string,
  response: Response,
  blockBytes = BODY_BLOCK_BYTES,
): Promise<StatusBody> {
  const declared = Number(response.headers.get('content-length'));
  let left = Number.isSafeInteger(declared) && declared > 0 ? declared : undefined;
  const parser = new LeanJsonParser({ leanBytes: LEAN_STRING_BYTES });
  const utf8 = new Utf8Check();
  const blocks: Uint8Array[] = [];
  let block: Buffer | undefined;
  let used = 0;
  let bytes = 0;
  const seal = () => {
    if (block && used > 0) {
      const full = block.subarray(0, used);
      if (!utf8.check(full)) throw new UpstreamInvalidResponseError(operation, 'body is not UTF-8');
      blocks.push(full);
    }
    block = undefined;
    used = 0;
  };
  let broken: LeanJsonError | undefined;
  const feed = (view: Uint8Array) => {
    if (broken) return;
    try {
      parser.write(view);
    } catch (err) {
      if (!(err instanceof LeanJsonError)) throw err;
      broken = err;
    }
  };
  const reader = response.body?.getReader();
  for (;;) {
    const next = reader ? await reader.read() : { done: true as const, value: undefined };
    if (next.done) break;
    const chunk = next.value;
    bytes += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      if (!block) {
        // A declared length sizes the last block exactly; a length that lies only costs an extra block.
        block = Buffer.allocUnsafe(left !== undefined && left > 0 ? Math.min(left, blockBytes) : blockBytes);
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
    // Not JSON: read only as far as the excerpt the error quotes.
    if (broken && bytes >= EXCERPT_BYTES) {
      await reader?.cancel().catch(() => undefined);
      break;
    }
  }
  seal();
  if (broken) {
    const text = Buffer.concat(blocks).subarray(0, EXCERPT_BYTES).toString('utf8');
    throw new UpstreamInvalidResponseError(
      operation,
      `not JSON (${broken.message}): ${JSON.stringify(text)}`,
    );
  }
  if (!utf8.done()) throw new UpstreamInvalidResponseError(operation, 'body is not UTF-8');
  try {
    return { json: parser.end(), lean: parser.lean, raw: blocks, bytes };
  } catch (err) {
    if (!(err instanceof LeanJsonError)) throw err;
    const text = Buffer.concat(blocks).subarray(0, EXCERPT_BYTES).toString('utf8');
    throw new UpstreamInvalidResponseError(operation, `not JSON (${err.message}): ${JSON.stringify(text)}`);
  }
}

/**
 * Strict UTF-8 over a body checked block by block, natively and without decoding it to text: each block is
 * checked up to its last whole character, the character split across two blocks on its own.
 */
class Utf8Check {
  private carry: Uint8Array = new Uint8Array(0);

  check(block: Uint8Array): boolean {
    let start = 0;
    if (this.carry.length > 0) {
      // The split character: the carried lead bytes and the continuation bytes that open this block.
      while (start < 3 && start < block.length && ((block[start] as number) & 0xc0) === 0x80) start++;
      if (!isUtf8(Buffer.concat([this.carry, block.subarray(0, start)]))) return false;
    }
    let end = block.length;
    let back = 0;
    while (back < 3 && end - back - 1 >= start && ((block[end - back - 1] as number) & 0xc0) === 0x80) back++;
    const lead = end - back - 1;
    if (lead >= start && sequenceLength(block[lead] as number) > back + 1) end = lead;
    this.carry = block.slice(end);
    return isUtf8(block.subarray(start, end));
  }

  /** Whether the body ended on a whole character. */
  done(): boolean {
    return this.carry.length === 0 || isUtf8(this.carry);
  }
}

/** Bytes of the UTF-8 sequence a lead byte opens (1 for anything not a multi-byte lead: isUtf8 judges it). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}
