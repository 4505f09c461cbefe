// Reading a /status body as it streams: the exact bytes in blocks, strict UTF-8 across block edges.
import { describe, expect, it } from 'vitest';
import { readStatusBody } from '../../../../functions/adapters/upstream/status-body.ts';
import { UpstreamInvalidResponseError } from '../../../../functions/core/errors.ts';

/** A response whose body arrives in `chunk`-byte pieces, as a socket delivers it. */
function streamed(bytes: Uint8Array, chunk: number, headers: Record<string, string> = {}): Response {
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
  return new Response(body, { headers });
}

describe('readStatusBody', () => {
  const text = JSON.stringify({ id: 'u1', status: 'COMPLETED', output: { text: 'é ✓ 😀 '.repeat(40) } });
  const bytes = Buffer.from(text);

  it('keeps the exact bytes in blocks and parses them, wherever chunks and blocks split a character', async () => {
    for (const [chunk, block] of [
      [1, 5],
      [3, 7],
      [7, 4],
      [64, 1024],
    ] as const) {
      const variants: Record<string, string>[] = [{}, { 'content-length': String(bytes.length) }];
      for (const headers of variants) {
        const body = await readStatusBody('status', streamed(bytes, chunk, headers), block);
        expect(Buffer.concat(body.raw).equals(bytes)).toBe(true);
        expect(body.json).toEqual(JSON.parse(text));
        expect(body.bytes).toBe(bytes.length);
        expect(body.raw.every((b) => b.length <= block)).toBe(true);
      }
    }
  });

  it('refuses a body that is not UTF-8, wherever the bad byte falls', async () => {
    const bad = [
      Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xe2, 0x9c]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"id":"ab"} '), Buffer.from([0xf0, 0x9f])]),
      Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ];
    for (const b of bad) {
      for (const block of [2, 3, 5, 64]) {
        await expect(readStatusBody('status', streamed(b, 3), block)).rejects.toThrow(
          UpstreamInvalidResponseError,
        );
      }
    }
  });

  it('names the body when it is not JSON', async () => {
    await expect(readStatusBody('status', streamed(Buffer.from('<html>502</html>'), 4))).rejects.toThrow(
      /not JSON.*<html>502/,
    );
  });
});
