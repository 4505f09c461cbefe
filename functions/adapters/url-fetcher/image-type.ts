// Recognises the image formats an artifact may be, by their magic bytes (as core/artifacts.ts does for base64).

export interface ImageType {
  contentType: string;
  ext: string;
}

const MAGIC: Array<ImageType & { test: (b: Uint8Array) => boolean }> = [
  {
    contentType: 'image/png',
    ext: 'png',
    test: (b) => Buffer.from(b.subarray(0, 8)).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])),
  },
  { contentType: 'image/jpeg', ext: 'jpg', test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  {
    contentType: 'image/gif',
    ext: 'gif',
    test: (b) => Buffer.from(b.subarray(0, 4)).toString('latin1') === 'GIF8',
  },
  {
    contentType: 'image/webp',
    ext: 'webp',
    test: (b) =>
      Buffer.from(b.subarray(0, 4)).toString('latin1') === 'RIFF' &&
      Buffer.from(b.subarray(8, 12)).toString('latin1') === 'WEBP',
  },
];

/** The image type the bytes start with; the declared Content-Type is never trusted on its own. */
export function sniffImage(bytes: Uint8Array): ImageType | undefined {
  const found = MAGIC.find((m) => m.test(bytes));
  return found && { contentType: found.contentType, ext: found.ext };
}

/** Declared types that may carry an image: image/*, and the generic binary types object stores send. */
export function mayBeImage(declared: string | undefined): boolean {
  if (declared === undefined || declared.trim() === '') return true;
  const media = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    media.startsWith('image/') || media === 'application/octet-stream' || media === 'binary/octet-stream'
  );
}
