// The guarded fetch against real local servers: addresses, schemes, redirects, DNS answers, size and time caps.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GuardedFetchOptions,
  GuardedUrlFetcher,
  guardedFetch,
  type Resolver,
  UrlFetchFailedError,
  UrlRefusedError,
} from '../../../functions/adapters/url-fetcher/index.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

type Route = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  server: Server;
  port: number;
  host: string;
  url: string;
  hits: string[];
}

async function serve(routes: Record<string, Route>): Promise<TestServer> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[(req.url ?? '').split('?')[0] ?? ''];
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, host: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}`, hits };
}

const png: Route = (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
const redirect =
  (location: string, status = 302): Route =>
  (_req, res) =>
    res.writeHead(status, { location }).end();

describe('guardedFetch', () => {
  let main: TestServer;
  let other: TestServer;
  let closedEarly = 0;
  const base = (extra: Partial<GuardedFetchOptions> = {}): GuardedFetchOptions => ({
    maxBytes: 4096,
    timeoutMs: 2000,
    allowHosts: [main.host],
    ...extra,
  });
  const refusal = (promise: Promise<unknown>) => expect(promise).rejects.toBeInstanceOf(UrlRefusedError);
  const failure = (promise: Promise<unknown>) => expect(promise).rejects.toBeInstanceOf(UrlFetchFailedError);

  beforeAll(async () => {
    other = await serve({ '/secret': png });
    main = await serve({
      '/ok.png': png,
      '/to-private': redirect('https://10.0.0.7/internal'),
      '/to-metadata': redirect('https://169.254.169.254/latest/meta-data/'),
      '/to-http-public': redirect('http://93.184.216.34/x.png'),
      '/to-ok': redirect('/ok.png', 301),
      '/loop': redirect('/loop'),
      '/hop1': redirect('/hop2'),
      '/hop2': redirect('/hop3'),
      '/hop3': redirect('/ok.png', 307),
      '/big': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(10_000)),
      '/endless': (req, res) => {
        // Chunked, no Content-Length: only the streaming cap can stop it.
        res.writeHead(200, { 'content-type': 'image/png' });
        const chunk = Buffer.alloc(1024);
        const timer = setInterval(() => res.write(chunk), 1);
        req.socket.on('close', () => {
          clearInterval(timer);
          closedEarly++;
        });
      },
      '/hang': () => undefined,
      '/trickle': (req, res) => {
        res.writeHead(200, { 'content-type': 'image/png' });
        const timer = setInterval(() => res.write(Buffer.alloc(1)), 50);
        req.socket.on('close', () => clearInterval(timer));
      },
      '/500': (_req, res) => res.writeHead(500).end(),
    });
  });
  afterAll(async () => {
    main.server.closeAllConnections();
    other.server.closeAllConnections();
    main.server.close();
    other.server.close();
  });

  it('fetches from an allow-listed local host over plain http', async () => {
    const fetched = await guardedFetch(`${main.url}/ok.png`, base());
    expect(fetched.body.equals(PNG)).toBe(true);
    expect(fetched.contentType).toBe('image/png');
  });

  it('follows up to three redirects, each checked again', async () => {
    expect((await guardedFetch(`${main.url}/to-ok`, base())).body.equals(PNG)).toBe(true);
    expect((await guardedFetch(`${main.url}/hop1`, base())).body.equals(PNG)).toBe(true);
    await refusal(guardedFetch(`${main.url}/loop`, base()));
    await refusal(guardedFetch(`${main.url}/hop1`, base({ maxRedirects: 2 })));
  });

  it('refuses loopback when it is not allow-listed, without connecting', async () => {
    const before = other.hits.length;
    await refusal(guardedFetch(`${other.url}/secret`, base()));
    await refusal(guardedFetch(`https://127.0.0.1:${other.port}/secret`, base()));
    await refusal(guardedFetch(`https://localhost:${other.port}/secret`, base()));
    expect(other.hits.length).toBe(before);
  });

  it.each([
    'https://127.0.0.1/',
    'https://0x7f.1/',
    'https://2130706433/',
    'https://017700000001/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://169.254.169.254/latest/meta-data/',
    'https://[fd00::1]/',
    'https://[fe80::1]/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://192.168.0.1/',
    'https://100.64.1.1/',
    'https://0.0.0.0/',
    'https://224.0.0.1/',
    'https://255.255.255.255/',
    'http://93.184.216.34/image.png',
    'ftp://93.184.216.34/image.png',
    'file:///etc/passwd',
    'data:image/png;base64,iVBORw0KGgo=',
    'https://user:pass@93.184.216.34/',
    'not a url',
  ])('refuses %s before any connection', async (url) => {
    const resolve: Resolver = async () => {
      throw new Error('IP literals and refused schemes must never reach the resolver');
    };
    await refusal(guardedFetch(url, base({ resolve })));
  });

  it('refuses a redirect to a private or metadata address, or to another local port', async () => {
    await refusal(guardedFetch(`${main.url}/to-private`, base()));
    await refusal(guardedFetch(`${main.url}/to-metadata`, base()));
    await refusal(guardedFetch(`${main.url}/to-http-public`, base()));
    const before = other.hits.length;
    const toOther = await serve({ '/go': redirect(`${other.url}/secret`) });
    await refusal(guardedFetch(`${toOther.url}/go`, base({ allowHosts: [toOther.host] })));
    expect(other.hits.length).toBe(before);
    toOther.server.close();
  });

  it('refuses a name when any DNS answer is private, even if another is public', async () => {
    const answers: Record<string, Array<{ address: string; family: 4 | 6 }>> = {
      'mixed.example': [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
      'internal.example': [{ address: '192.168.1.20', family: 4 }],
      'mapped.example': [{ address: '::ffff:169.254.169.254', family: 6 }],
      'ula.example': [{ address: 'fd00::1', family: 6 }],
      'empty.example': [],
    };
    const resolve: Resolver = async (host) => answers[host] ?? [];
    for (const host of ['mixed.example', 'internal.example', 'mapped.example', 'ula.example'])
      await refusal(guardedFetch(`https://${host}/x.png`, base({ resolve })));
    await failure(guardedFetch('https://empty.example/x.png', base({ resolve })));
    const broken: Resolver = async () => {
      throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
    };
    await failure(guardedFetch('https://nowhere.example/x.png', base({ resolve: broken })));
  });

  it('connects to the address it checked: one resolution per hop, no second lookup to rebind', async () => {
    // A rebinding resolver: the first answer is the test server, any later one would point elsewhere.
    let lookups = 0;
    const resolve: Resolver = async () => {
      lookups++;
      return [{ address: lookups === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    };
    const host = `rebind.test:${main.port}`;
    const fetched = await guardedFetch(`http://${host}/ok.png`, base({ resolve, allowHosts: [host] }));
    expect(fetched.body.equals(PNG)).toBe(true);
    expect(lookups).toBe(1);
  });

  it('aborts a body over the size cap, declared or streamed', async () => {
    await refusal(guardedFetch(`${main.url}/big`, base()));
    await expect(guardedFetch(`${main.url}/endless`, base())).rejects.toThrow(/over 4096 bytes/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closedEarly).toBe(1);
  });

  it('gives up on a server that never answers, or answers too slowly, at the time cap', async () => {
    const started = Date.now();
    await expect(guardedFetch(`${main.url}/hang`, base({ timeoutMs: 200 }))).rejects.toThrow(/timed out/);
    await expect(guardedFetch(`${main.url}/trickle`, base({ timeoutMs: 200 }))).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports HTTP errors as failures', async () => {
    await failure(guardedFetch(`${main.url}/500`, base()));
    await failure(guardedFetch(`${main.url}/missing`, base()));
  });
});

describe('GuardedUrlFetcher', () => {
  let main: TestServer;
  let fetcher: GuardedUrlFetcher;
  beforeAll(async () => {
    main = await serve({
      '/ok.png': png,
      '/html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
      '/text-as-png': (_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end('not an image'),
      '/octet': (_req, res) => res.writeHead(200, { 'content-type': 'binary/octet-stream' }).end(PNG),
    });
    fetcher = new GuardedUrlFetcher({ maxBytes: 4096, timeoutMs: 2000, allowHosts: [main.host] });
  });
  afterAll(() => {
    main.server.closeAllConnections();
    main.server.close();
  });

  it('returns real images only, typed by their bytes', async () => {
    expect(await fetcher.fetchImage(`${main.url}/ok.png`)).toMatchObject({
      ok: true,
      contentType: 'image/png',
      ext: 'png',
    });
    expect(await fetcher.fetchImage(`${main.url}/octet`)).toMatchObject({ ok: true, ext: 'png' });
    expect(await fetcher.fetchImage(`${main.url}/html`)).toMatchObject({ ok: false, outcome: 'refused' });
    expect(await fetcher.fetchImage(`${main.url}/text-as-png`)).toMatchObject({
      ok: false,
      outcome: 'refused',
    });
  });

  it('never throws: refusals and failures come back as values', async () => {
    expect(await fetcher.fetchImage('https://169.254.169.254/latest/meta-data/')).toMatchObject({
      ok: false,
      outcome: 'refused',
      reason: expect.stringContaining('link-local'),
    });
    expect(await fetcher.fetchImage(`${main.url}/nothing-here`)).toMatchObject({
      ok: false,
      outcome: 'failed',
    });
  });
});
