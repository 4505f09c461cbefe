// Builds real, small PNG files in code (no image library): a seeded gradient, so each seed gives its own bytes.
import { deflateSync } from 'node:zlib';
import { mulberry32 } from './random.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// Own CRC-32 table because zlib.crc32 only exists from Node 20.15 and the engines field allows 20.10.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/** Largest side accepted, so a hostile input cannot make the emulator allocate gigabytes. */
export const MAX_PNG_SIDE = 1024;

/** An RGB PNG of `width`×`height` whose pixels depend only on `seed`. */
export function makePng(width: number, height: number, seed: number): Buffer {
  const w = Math.min(MAX_PNG_SIDE, Math.max(1, Math.floor(width)));
  const h = Math.min(MAX_PNG_SIDE, Math.max(1, Math.floor(height)));
  const rng = mulberry32(seed);
  const from = [rng() * 255, rng() * 255, rng() * 255];
  const to = [rng() * 255, rng() * 255, rng() * 255];
  const raw = Buffer.alloc((w * 3 + 1) * h);
  let offset = 0;
  for (let y = 0; y < h; y++) {
    raw[offset++] = 0; // filter type "None" for every scanline
    for (let x = 0; x < w; x++) {
      const t = (x + y) / Math.max(1, w + h - 2);
      for (let c = 0; c < 3; c++) {
        const a = from[c] ?? 0;
        const b = to[c] ?? 0;
        raw[offset++] = Math.round(a + (b - a) * t) & 0xff;
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour RGB
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
