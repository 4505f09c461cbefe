// Serves the generated PNGs behind image URLs, expiring like presigned bucket URLs (403 once past `expires`).
import type { Reply } from './http.ts';
import { MAX_PNG_SIDE, makePng } from './png.ts';

const intParam = (query: URLSearchParams, key: string): number | undefined => {
  const value = Number(query.get(key));
  return query.has(key) && Number.isInteger(value) ? value : undefined;
};

/** Files are generated again from their URL parameters, so they cost no memory while URLs stay valid. */
export function fileReply(path: string, query: URLSearchParams, now = Date.now()): Reply {
  const seed = intParam(query, 'seed');
  const w = intParam(query, 'w');
  const h = intParam(query, 'h');
  const expires = intParam(query, 'expires');
  const valid =
    /^\/files\/[^/]+\/\d+\.png$/.test(path) &&
    seed !== undefined &&
    w !== undefined &&
    h !== undefined &&
    expires !== undefined &&
    w >= 1 &&
    h >= 1 &&
    w <= MAX_PNG_SIDE &&
    h <= MAX_PNG_SIDE;
  if (!valid) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  if (now > expires) return s3Error(403, 'AccessDenied', 'Request has expired');
  return { status: 200, body: makePng(w, h, seed), contentType: 'image/png' };
}

function s3Error(status: number, code: string, message: string): Reply {
  return {
    status,
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}
