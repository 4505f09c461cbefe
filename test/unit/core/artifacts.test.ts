import { describe, expect, it } from 'vitest';
import { findImageArtifacts } from '../../../functions/core/artifacts.ts';

// A real 1×1 PNG.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array(60).fill(0)]).toString('base64');

describe('finding image artifacts in outputs', () => {
  it('decodes a data-URI image to its real bytes and type', () => {
    const [found, ...rest] = findImageArtifacts({ images: [`data:image/png;base64,${PNG}`] });
    expect(rest).toEqual([]);
    expect(found).toMatchObject({
      path: 'output.images[0]',
      name: 'images-0',
      contentType: 'image/png',
      ext: 'png',
    });
    expect(Buffer.concat([found?.data ?? []].flat()).equals(Buffer.from(PNG, 'base64'))).toBe(true);
  });

  it('recognises bare base64 by its magic bytes (PNG and JPEG)', () => {
    const found = findImageArtifacts([{ image: PNG }, { image: JPEG_HEAD }]);
    expect(found.map((f) => f.contentType)).toEqual(['image/png', 'image/jpeg']);
  });

  it('leaves text, URLs and short strings alone', () => {
    expect(
      findImageArtifacts({
        text: 'A very long answer that is not an image at all, even though it is longer than sixty-four characters.',
        url: 'https://example.com/a.png',
        short: 'iVBORw0KGgo',
        n: 3,
      }),
    ).toEqual([]);
  });

  it('copes with a bare string output and with nothing', () => {
    expect(findImageArtifacts(PNG)).toHaveLength(1);
    expect(findImageArtifacts(undefined)).toEqual([]);
    expect(findImageArtifacts(null)).toEqual([]);
  });
});
