// The streamed /status parser: JSON.parse's value at any chunking, long output strings left in the bytes.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LeanJsonError, LeanJsonParser } from '../../../../functions/adapters/upstream/lean-json.ts';
import { findImageArtifacts } from '../../../../functions/core/artifacts.ts';
import { DecodedImage, OmittedText } from '../../../../functions/core/lean-output.ts';

const FIXTURES = new URL('../../../fixtures/upstream/', import.meta.url);

function parse(bytes: Buffer, chunk: number, leanBytes = 64 * 1024): { value: unknown; lean: boolean } {
  const parser = new LeanJsonParser({ leanBytes });
  for (let at = 0; at < bytes.length; at += chunk) parser.write(bytes.subarray(at, at + chunk));
  return { value: parser.end(), lean: parser.lean };
}

const tricky = {
  id: 'a"b\\c',
  status: 'COMPLETED',
  delayTime: 12,
  executionTime: -0.5e-3,
  output: { text: 'é ✓ 😀 \u0001 \\" \n', list: [1, true, false, null, [], {}], ['__proto__']: { x: 1 } },
  error: null,
};

describe('LeanJsonParser', () => {
  it('gives what JSON.parse gives for every upstream fixture and tricky text, at every chunk size', () => {
    const bodies = readdirSync(FIXTURES)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readFileSync(new URL(f, FIXTURES)));
    bodies.push(Buffer.from(` ${JSON.stringify(tricky, null, 2).replace('12', '1e400')}\n`));
    bodies.push(Buffer.from('{"delayTime":1e400,"n":-12.5E+3}'));
    for (const bytes of bodies) {
      const expected = JSON.parse(bytes.toString('utf8')) as unknown;
      for (const chunk of [1, 2, 3, 7, 64, bytes.length]) {
        const { value, lean } = parse(bytes, chunk);
        expect(value).toEqual(expected);
        expect(lean).toBe(false);
      }
    }
  });

  it('keeps "__proto__" as an own key, as JSON.parse does', () => {
    const { value } = parse(Buffer.from('{"output":{"__proto__":{"polluted":1}}}'), 5);
    const output = (value as { output: object }).output;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.keys(output)).toEqual(['__proto__']);
  });

  it('refuses what JSON.parse refuses', () => {
    for (const text of [
      '',
      '{',
      '{"a":1,}',
      '[1 2]',
      '{"a" 1}',
      '"x',
      'tru',
      '{"a":1}x',
      '["\u0001"]',
      '{]',
      '01x',
    ]) {
      expect(() => parse(Buffer.from(text), 2), text).toThrow(LeanJsonError);
    }
  });

  it('leaves a long output string in the bytes, and only under output', () => {
    const long = 'x'.repeat(5000);
    const body = Buffer.from(JSON.stringify({ id: 'j', output: { text: long, short: 'kept' }, error: long }));
    const { value, lean } = parse(body, 100, 1000);
    expect(lean).toBe(true);
    const v = value as { output: { text: unknown; short: string }; error: string };
    expect(v.output.text).toBeInstanceOf(OmittedText);
    expect((v.output.text as OmittedText).bytes).toBe(5000);
    expect(v.output.short).toBe('kept');
    expect(v.error).toBe(long);
    expect(() => JSON.stringify(v)).toThrow(TypeError);
  });

  it('decodes a long base64 or data-URI image as it streams, with the same bytes and order as a whole parse', () => {
    const png = Buffer.concat([
      Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
      Buffer.from(Array.from({ length: 30_000 }, (_, i) => (i * 7) % 256)),
    ]);
    const output = {
      images: [`data:image/png;base64,${png.toString('base64')}`, { image: png.toString('base64') }],
      prose: 'y'.repeat(3000),
    };
    const body = Buffer.from(JSON.stringify({ id: 'j', status: 'COMPLETED', output }));
    for (const chunk of [1000, 4093, body.length]) {
      const { value } = parse(body, chunk, 2048);
      const lean = (value as { output: unknown }).output;
      expect((lean as { images: unknown[] }).images[0]).toBeInstanceOf(DecodedImage);
      const streamed = findImageArtifacts(lean);
      const whole = findImageArtifacts(output);
      expect(streamed.map((f) => [f.path, f.contentType, f.bytes])).toEqual(
        whole.map((f) => [f.path, f.contentType, f.bytes]),
      );
      for (const [i, f] of streamed.entries()) {
        expect(Buffer.concat([f.data].flat()).equals(Buffer.concat([whole[i]?.data ?? []].flat()))).toBe(
          true,
        );
      }
    }
  });
});
