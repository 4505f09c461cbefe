// Puts SigV4 verification in front of an embedded store: a request not signed with local mode's own key is refused.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials } from '../../functions/adapters/aws-clients.ts';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface GuardOptions {
  credentials: AwsCredentials;
  /**
   * Further pairs the store accepts, added while it runs (as-deployed mode gives each function its own key,
   * so a recorded call names its caller); every signature is still verified.
   */
  trusted?: ReadonlyMap<string, AwsCredentials>;
  /** 's3' verifies on the x-amz-content-sha256 header (the body is never read); 'dynamodb' and 'sqs' hash the body. */
  service: 's3' | 'dynamodb' | 'sqs';
  /** Largest body read for verification (DynamoDB's own request limit is 16 MB). */
  maxBodyBytes?: number;
  now?: () => number;
}

interface Presented {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** Presigned URL: seconds it is valid from `date`. */
  expiresIn?: number;
}

const HEADER_AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function presented(req: IncomingMessage, url: URL): Presented | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') {
    const m = HEADER_AUTH.exec(header);
    const date = req.headers['x-amz-date'];
    if (!m || typeof date !== 'string') return undefined;
    return {
      accessKeyId: m[1] ?? '',
      date,
      region: m[3] ?? '',
      service: m[4] ?? '',
      signedHeaders: (m[5] ?? '').split(';'),
      signature: m[6] ?? '',
    };
  }
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return undefined;
  const credential = (q.get('X-Amz-Credential') ?? '').split('/');
  const expires = Number(q.get('X-Amz-Expires'));
  const signature = q.get('X-Amz-Signature') ?? '';
  if (credential.length !== 5 || !Number.isInteger(expires) || !/^[0-9a-f]{64}$/.test(signature))
    return undefined;
  return {
    accessKeyId: credential[0] ?? '',
    date: q.get('X-Amz-Date') ?? '',
    region: credential[2] ?? '',
    service: credential[3] ?? '',
    signedHeaders: (q.get('X-Amz-SignedHeaders') ?? '').split(';'),
    signature,
    expiresIn: expires,
  };
}

/** '20261129T191102Z' → epoch ms. */
function amzDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** What presign() itself adds to the query; the rest of the query is what was signed. */
const PRESIGN_ADDS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
]);

const sameHex = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Recomputes the signature the caller should have made with our secret, and compares. */
export async function verifySigV4(
  req: IncomingMessage,
  body: Buffer | undefined,
  options: GuardOptions,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://store.local');
  const sig = presented(req, url);
  if (sig === undefined) return false;
  const credentials =
    sig.accessKeyId === options.credentials.accessKeyId
      ? options.credentials
      : options.trusted?.get(sig.accessKeyId);
  if (credentials === undefined) return false;
  const signedAt = amzDate(sig.date);
  const now = (options.now ?? Date.now)();
  if (!Number.isFinite(signedAt)) return false;
  // AWS allows 15 minutes of clock skew for signed headers; a presigned URL lives for its X-Amz-Expires.
  if (
    sig.expiresIn !== undefined ? now > signedAt + sig.expiresIn * 1000 : Math.abs(now - signedAt) > 900_000
  )
    return false;

  const headers: Record<string, string> = {};
  for (const name of sig.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return false;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    if (sig.expiresIn !== undefined && PRESIGN_ADDS.has(key)) continue;
    // The signer hoists x-amz-* headers into a presigned query and takes the payload hash from the header.
    if (sig.expiresIn !== undefined && key.toLowerCase().startsWith('x-amz-')) {
      headers[key] = value;
      continue;
    }
    const seen = query[key];
    query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  const signer = new SignatureV4({
    credentials,
    region: sig.region,
    service: sig.service,
    sha256: Hash.bind(null, 'sha256'),
    // Sign exactly what the caller signed: adding our own content hash header would change the request.
    applyChecksum: false,
    // S3 signs the path as sent; other services escape it once more.
    uriEscapePath: options.service !== 's3',
  });
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  const request = new HttpRequest({
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: 'store.local',
    path: options.service === 's3' ? rawPath : decodeURIComponent(rawPath),
    query,
    headers,
    ...(body !== undefined && body.length > 0 && { body }),
  });
  const signingDate = new Date(signedAt);
  if (sig.expiresIn !== undefined) {
    const signed = await signer.presign(request, {
      signingDate,
      expiresIn: sig.expiresIn,
      unhoistableHeaders: new Set(sig.signedHeaders),
    });
    const expected = signed.query?.['X-Amz-Signature'];
    return typeof expected === 'string' && sameHex(expected, sig.signature);
  }
  const signed = await signer.sign(request, { signingDate });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ''))?.[1];
  return expected !== undefined && sameHex(expected, sig.signature);
}

function refuse(res: ServerResponse, service: GuardOptions['service']): void {
  const message = 'this local store accepts only requests signed with the credentials of its data folder';
  if (service === 's3') {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`;
    res.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const body = JSON.stringify({ __type: 'com.amazon.coral.service#UnrecognizedClientException', message });
  res.writeHead(400, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function readAll(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** The body already read, handed on as a request the store can read again. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = Readable.from(body.length > 0 ? [body] : []) as unknown as IncomingMessage;
  Object.assign(copy, {
    method: req.method,
    url: req.url,
    headers: req.headers,
    httpVersion: req.httpVersion,
    socket: req.socket,
  });
  return copy;
}

/** Replaces the server's request listeners by one that verifies first; CORS preflights pass (they carry no data). */
export function guardWithSigV4(server: Server, options: GuardOptions): void {
  const listeners = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  const forward: Listener = (req, res) => {
    for (const listener of listeners) listener(req, res);
  };
  const limit = options.maxBodyBytes ?? 16 * 1024 * 1024;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (req.method === 'OPTIONS') return forward(req, res);
      if (options.service === 's3') {
        if (await verifySigV4(req, undefined, options)) return forward(req, res);
        req.resume();
        return refuse(res, options.service);
      }
      const body = await readAll(req, limit);
      if (body === undefined || !(await verifySigV4(req, body, options))) return refuse(res, options.service);
      forward(replay(req, body), res);
    })().catch(() => {
      if (!res.headersSent) refuse(res, options.service);
      else res.destroy();
    });
  });
}
