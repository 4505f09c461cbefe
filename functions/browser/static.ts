// The archive browser's static files: which names are served, their content types and security headers.

/** The page itself, served at `/`. */
export const INDEX_FILE = 'index.html';

/** Content types by extension; only these files are served. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Scripts and styles from this origin only; images and fetches may also go to the archive's presigned S3
 * URLs (another origin), never anything else: no inline script, no plugins, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: http: https:",
  "connect-src 'self' http: https:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** One path segment: a plain name with one extension of CONTENT_TYPES, the page excepted. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.[a-z]+$/;

/** The content type of a file served under `/assets/`, or undefined when that name is not served. */
export function assetContentType(name: string): string | undefined {
  if (!ASSET_NAME.test(name)) return undefined;
  const extension = name.slice(name.lastIndexOf('.'));
  if (extension === '.html' || !Object.hasOwn(CONTENT_TYPES, extension)) return undefined;
  return CONTENT_TYPES[extension];
}

/**
 * The file a request path names: `/` (or `/index.html`) is the page, `/assets/{name}` an asset; anything
 * else, including encoded slashes and dot segments, is undefined (404).
 */
export function fileForPath(rawPath: string): { name: string; contentType: string } | undefined {
  if (rawPath === '/' || rawPath === `/${INDEX_FILE}`) {
    return { name: INDEX_FILE, contentType: CONTENT_TYPES['.html'] ?? 'text/html' };
  }
  const match = /^\/assets\/([^/]+)$/.exec(rawPath);
  if (match?.[1] === undefined) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  const contentType = assetContentType(name);
  return contentType === undefined ? undefined : { name, contentType };
}

/** Headers of every static answer; the CSP matters on the page, and costs nothing on the rest. */
export function staticHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'cache-control': 'no-cache',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}
