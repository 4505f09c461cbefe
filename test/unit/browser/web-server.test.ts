// The local static server behind the gateway's fallback: the page, its assets, content types, nothing else.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../functions/browser/static.ts';
import { createWebServer } from '../../../local/web-server.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('web server', () => {
  let server: Server;
  let port: number;

  /** A raw request: the path goes out exactly as written (fetch would normalize dot segments). */
  const send = (method: string, path: string) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    const handler = createWebServer();
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the page at / with the Content-Security-Policy', async () => {
    const answer = await send('GET', '/');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.body).toContain('<script type="module" src="/assets/app.js"></script>');
    expect((await send('GET', '/index.html?x=1')).status).toBe(200);
  });

  it('serves assets with their content types', async () => {
    const types: Record<string, string> = {
      '/assets/app.js': 'text/javascript; charset=utf-8',
      '/assets/format.js': 'text/javascript; charset=utf-8',
      '/assets/style.css': 'text/css; charset=utf-8',
      '/assets/favicon.svg': 'image/svg+xml',
    };
    for (const [path, type] of Object.entries(types)) {
      const answer = await send('GET', path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['content-type'], path).toBe(type);
      expect(Number(answer.headers['content-length']), path).toBe(Buffer.byteLength(answer.body));
    }
  });

  it('answers HEAD without a body', async () => {
    const answer = await send('HEAD', '/assets/style.css');
    expect(answer.status).toBe(200);
    expect(Number(answer.headers['content-length'])).toBeGreaterThan(0);
    expect(answer.body).toBe('');
  });

  it.each([
    '/assets/../package.json',
    '/assets/..%2fpackage.json',
    '/assets/..%2F..%2Fpackage.json',
    '/assets/%2e%2e',
    '/assets/.%2e/package.json',
    '/assets/..\\package.json',
    '/assets/%00app.js',
    '/assets/app.js%00.css',
    '/../package.json',
    '/assets/sub/app.js',
    '/assets/',
    '/assets/index.html',
    '/assets/build-assets.ts',
    '/assets/format.d.ts',
    '/assets/missing.js',
    '/assets/.hidden.js',
    '/web/app.js',
    '/favicon.ico',
    '/jobs-and-more',
  ])('refuses %s with 404', async (path) => {
    const answer = await send('GET', path);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND', details: {} } });
  });

  it('answers other methods with 404', async () => {
    expect((await send('POST', '/')).status).toBe(404);
    expect((await send('DELETE', '/assets/app.js')).status).toBe(404);
  });
});
