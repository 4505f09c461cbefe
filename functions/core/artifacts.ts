// Finds images carried as base64 or data URIs inside an output, so they can be stored as real files.
import { DecodedImage } from './lean-output.ts';

export interface FoundArtifact {
  /** JSON path, e.g. `output.images[0].image`. */
  path: string;
  /** A short name for the file, from the path. */
  name: string;
  contentType: string;
  ext: string;
  /** The image's bytes: one buffer, or the pieces a streamed read decoded them into. */
  data: Uint8Array | readonly Uint8Array[];
  bytes: number;
}

/** An image format recognised by its magic bytes. */
export interface ImageType {
  contentType: string;
  ext: string;
}

const MAGIC: Array<ImageType & { test: (b: Buffer) => boolean }> = [
  {
    contentType: 'image/png',
    ext: 'png',
    test: (b) => b.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])),
  },
  { contentType: 'image/jpeg', ext: 'jpg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { contentType: 'image/gif', ext: 'gif', test: (b) => b.subarray(0, 4).toString('latin1') === 'GIF8' },
  {
    contentType: 'image/webp',
    ext: 'webp',
    test: (b) =>
      b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
];

/** The image type the bytes start with; a declared Content-Type is never trusted on its own. */
export function sniffImage(bytes: Uint8Array): ImageType | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 16));
  const found = MAGIC.find((m) => m.test(head));
  return found && { contentType: found.contentType, ext: found.ext };
}

const DATA_URI = /^data:(image\/[a-z0-9.+-]+);base64,/i;
const BASE64_HEAD = /^[A-Za-z0-9+/]{16}/;
/** Shorter strings are not worth a look: no real image is under 64 base64 characters. */
const MIN_BASE64_LENGTH = 64;
const MAX_DEPTH = 32;

function pathName(path: string): string {
  return path.replace(/^output\.?/, '').replace(/\[(\d+)\]/g, '-$1') || 'output';
}

/**
 * What the start of a string says: an image (its type, and where its base64 begins), or nothing. Needs the
 * first 64 characters at most; a streamed read asks it before the rest of the string has arrived.
 */
export function imageHead(head: string): (ImageType & { base64At: number }) | undefined {
  const uri = DATA_URI.exec(head);
  const base64At = uri ? uri[0].length : 0;
  if (!uri && !BASE64_HEAD.test(head)) return undefined;
  // Decode a small head first: most long strings are prose, and decoding them whole would waste memory.
  const kind = sniffImage(Buffer.from(head.slice(base64At, base64At + 24), 'base64'));
  return kind && { ...kind, base64At };
}

function decodeCandidate(value: string): { data: Buffer; contentType: string; ext: string } | undefined {
  if (!DATA_URI.test(value) && value.length < MIN_BASE64_LENGTH) return undefined;
  const kind = imageHead(value.slice(0, 256));
  if (!kind) return undefined;
  const data = Buffer.from(value.slice(kind.base64At), 'base64');
  return { data, contentType: kind.contentType, ext: kind.ext };
}

/**
 * Walks `output` (objects, arrays, strings) and returns every base64 or data-URI image it holds.
 * @example findImageArtifacts({ images: ['data:image/png;base64,iVBOR...'] }) // [{ path: 'output.images[0]', ... }]
 */
export function findImageArtifacts(output: unknown, maxCount = 100): FoundArtifact[] {
  const found: FoundArtifact[] = [];
  const visit = (value: unknown, path: string, depth: number): void => {
    if (found.length >= maxCount || depth > MAX_DEPTH) return;
    if (typeof value === 'string') {
      const decoded = decodeCandidate(value);
      if (decoded) found.push({ path, name: pathName(path), ...decoded, bytes: decoded.data.length });
    } else if (value instanceof DecodedImage) {
      const { data, bytes, contentType, ext } = value;
      found.push({ path, name: pathName(path), data, bytes, contentType, ext });
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) visit(item, `${path}[${i}]`, depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`, depth + 1);
    }
  };
  visit(output, 'output', 0);
  return found;
}
