// Serves the archive browser (web/) for the local gateway's fallback: `/` is the page, `/assets/{file}` its files.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../functions/adapters/aws-clients.ts';
import { fileForPath, staticHeaders } from '../functions/browser/static.ts';
import { writeApiError } from './gateway/respond.ts';
import type { LocalStores } from './stores/index.ts';

/** The folder with index.html, app.js, style.css, ... */
export const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface WebServerOptions {
  /** Default WEB_ROOT. Files are read on every request, so edits show on reload. */
  root?: string;
}

/** A gateway fallback serving the page: GET and HEAD of known files, 404 ROUTE_NOT_FOUND (the API's error shape) otherwise. */
export function createWebServer(options: WebServerOptions = {}): WebHandler {
  const root = resolve(options.root ?? WEB_ROOT);
  return async (req, res) => {
    const method = req.method ?? 'GET';
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const file = method === 'GET' || method === 'HEAD' ? fileForPath(rawPath) : undefined;
    // fileForPath admits single plain names only; the prefix check is a second lock on the same door.
    const path = file && resolve(root, file.name);
    const notFound = () =>
      writeApiError(res, 404, 'ROUTE_NOT_FOUND', `No route for ${method} ${rawPath}`, {});
    if (file === undefined || path === undefined || !path.startsWith(root + sep)) {
      notFound();
      return;
    }
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      notFound();
      return;
    }
    res.writeHead(200, { ...staticHeaders(file.contentType), 'content-length': body.length });
    res.end(method === 'HEAD' ? undefined : body);
  };
}

/**
 * Lets the page read input.json and result.json through their presigned URLs (another origin): a CORS rule
 * for GET and HEAD from any origin. The URLs carry their own signatures, so this opens nothing unsigned.
 */
export async function allowBrowserReads(stores: LocalStores, bucket: string): Promise<void> {
  const s3 = createS3Client({
    endpoint: stores.s3Endpoint,
    region: stores.region,
    credentials: stores.credentials,
  });
  try {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedMethods: ['GET', 'HEAD'],
              AllowedOrigins: ['*'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['Content-Length', 'Content-Type'],
              MaxAgeSeconds: 3600,
            },
          ],
        },
      }),
    );
  } finally {
    s3.destroy();
  }
}
