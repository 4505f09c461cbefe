// Which fetched bodies may be images: the declared type is a hint, the magic bytes (core/artifacts.ts) decide.

export { type ImageType, sniffImage } from '../../core/artifacts.ts';

/** Declared types that may carry an image: image/*, and the generic binary types object stores send. */
export function mayBeImage(declared: string | undefined): boolean {
  if (declared === undefined || declared.trim() === '') return true;
  const media = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    media.startsWith('image/') || media === 'application/octet-stream' || media === 'binary/octet-stream'
  );
}
