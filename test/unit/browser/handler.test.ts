// The browser Lambda: the bundled page and assets with their headers, 404 for everything else.
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../../functions/browser/handler.ts';
import { CONTENT_SECURITY_POLICY } from '../../../functions/browser/static.ts';
import { httpEvent } from '../../support/events.ts';

const get = async (path: string, method = 'GET'): Promise<APIGatewayProxyStructuredResultV2> =>
  handler(httpEvent({ routeKey: `${method} ${path}`, method, path }));

const bodyOf = (result: APIGatewayProxyStructuredResultV2) =>
  Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8').toString();

describe('browser handler', () => {
  it('serves the page at / with the Content-Security-Policy', async () => {
    const result = await get('/');
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(result.headers?.['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(bodyOf(result)).toBe(readFileSync('web/index.html', 'utf8'));
  });

  it('serves every asset the page loads, byte for byte', async () => {
    for (const [name, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['favicon.svg', 'image/svg+xml'],
    ]) {
      const result = await get(`/assets/${name}`);
      expect(result.statusCode, name).toBe(200);
      expect(result.headers?.['content-type'], name).toBe(type);
      expect(bodyOf(result), name).toBe(readFileSync(`web/${name}`, 'utf8'));
    }
    expect((await get('/assets/app.js', 'HEAD')).statusCode).toBe(200);
  });

  it.each([
    '/assets/..%2fpackage.json',
    '/assets/build-assets.ts',
    '/assets/index.html',
    '/assets/__proto__',
    '/assets/constructor.js',
    '/assets/missing.css',
    '/other',
  ])('refuses %s with 404', async (path) => {
    const result = await get(path);
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body ?? '')).toEqual({
      error: { code: 'ROUTE_NOT_FOUND', message: `No route for GET ${path}`, details: {} },
    });
  });

  it('refuses other methods', async () => {
    expect((await get('/', 'POST')).statusCode).toBe(404);
  });
});
