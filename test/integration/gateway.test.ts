// Local HTTP API gateway and schedule against real sockets: event shape, AWS limits and errors, auth, no overlap.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, type GatewayRoute, startSchedule } from '../../local/gateway/index.ts';

/** Handlers that return what the route type forbids, as a buggy or untyped Lambda could. */
const untyped = (handler: () => Promise<unknown>) => handler as unknown as GatewayRoute['handler'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Seen {
  event: APIGatewayProxyEventV2;
  context: Context;
  remainingMs: number;
}

describe('gateway', () => {
  let gateway: Gateway;
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  let calls = 0;

  const record: GatewayRoute['handler'] = async (event, context) => {
    calls++;
    seen.push({ event, context, remainingMs: context.getRemainingTimeInMillis() });
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ok: true }),
    };
  };

  beforeAll(async () => {
    gateway = await createGateway({
      authToken: 'sekret-token',
      onError: (error) => errors.push(error),
      routes: [
        { method: 'POST', path: '/jobs/{jobId}/cancel', handler: record, timeoutMs: 20_000 },
        { method: 'GET', path: '/jobs/{jobId}', handler: record },
        {
          method: 'GET',
          path: '/jobs/track',
          handler: async () => ({ statusCode: 200, body: 'static wins' }),
        },
        { method: 'POST', path: '/upload', handler: record },
        { method: 'ANY', path: '/files/{path+}', handler: record },
        {
          method: 'GET',
          path: '/binary',
          handler: async () => ({
            statusCode: 200,
            headers: { 'content-type': 'image/png', 'x-count': 3 },
            cookies: ['a=1; Path=/', 'b=2'],
            body: Buffer.from([0, 255, 1, 254]).toString('base64'),
            isBase64Encoded: true,
          }),
        },
        { method: 'GET', path: '/inferred', handler: untyped(async () => ({ hello: 'world' })) },
        {
          method: 'GET',
          path: '/throws',
          handler: async () => {
            throw new Error('boom');
          },
        },
        { method: 'GET', path: '/invalid', handler: untyped(async () => ({ statusCode: 'nope' })) },
        {
          method: 'GET',
          path: '/slow-function',
          timeoutMs: 100,
          handler: async () => {
            await sleep(400);
            return { statusCode: 200 };
          },
        },
        { method: 'GET', path: '/private', auth: true, handler: async () => ({ statusCode: 204 }) },
      ],
    });
  });
  afterAll(async () => {
    await gateway.stop();
  });

  it('listens on 127.0.0.1', () => {
    expect(gateway.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('builds a format 2.0 event: route key, path parameters, query, headers, cookies, JSON body', async () => {
    seen.length = 0;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${gateway.url}/jobs/01HX%2FABC/cancel?a=1&a=2&b=x%20y&flag`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'X-Multi': ['one', 'two'],
            Cookie: 'c1=v1; c2=v2',
            'User-Agent': 'gateway-test',
          },
        },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ reason: 'stop', text: 'héllo' }));
    });
    expect(res).toEqual({ status: 200, body: '{"ok":true}' });
    const [{ event, context, remainingMs }] = seen as [Seen];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /jobs/{jobId}/cancel',
      rawPath: '/jobs/01HX%2FABC/cancel',
      rawQueryString: 'a=1&a=2&b=x%20y&flag',
      queryStringParameters: { a: '1,2', b: 'x y', flag: '' },
      pathParameters: { jobId: '01HX/ABC' },
      cookies: ['c1=v1', 'c2=v2'],
      body: JSON.stringify({ reason: 'stop', text: 'héllo' }),
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      'x-multi': 'one,two',
      'user-agent': 'gateway-test',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.requestContext).toMatchObject({
      accountId: expect.any(String),
      apiId: 'local',
      domainName: gateway.url.replace('http://', ''),
      http: {
        method: 'POST',
        path: '/jobs/01HX%2FABC/cancel',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'gateway-test',
      },
      routeKey: 'POST /jobs/{jobId}/cancel',
      stage: '$default',
    });
    expect(event.requestContext.requestId).toMatch(/^[A-Za-z0-9+/=]{16}$/);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5000);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.functionName).toBe('POST-jobs-jobId-cancel');
    expect(context.invokedFunctionArn).toContain(':function:POST-jobs-jobId-cancel');
    expect(remainingMs).toBeGreaterThan(19_000);
    expect(remainingMs).toBeLessThanOrEqual(20_000);
  });

  it('omits body, query and path parameters that are absent', async () => {
    seen.length = 0;
    const res = await fetch(`${gateway.url}/jobs/abc`);
    expect(res.status).toBe(200);
    const [{ event }] = seen as [Seen];
    expect(event.body).toBeUndefined();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.rawQueryString).toBe('');
    expect(event.pathParameters).toEqual({ jobId: 'abc' });
    expect(event.cookies).toBeUndefined();
  });

  it('prefers static segments over path variables, and serves greedy variables', async () => {
    expect(await (await fetch(`${gateway.url}/jobs/track`)).text()).toBe('static wins');
    seen.length = 0;
    const res = await fetch(`${gateway.url}/files/a/b%20c/d.txt`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(seen[0]?.event.routeKey).toBe('ANY /files/{path+}');
    expect(seen[0]?.event.pathParameters).toEqual({ path: 'a/b c/d.txt' });
  });

  it('base64-encodes binary request bodies and decodes base64 responses', async () => {
    seen.length = 0;
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    // Text types that are not valid UTF-8 are not mangled either.
    await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: bytes,
    });
    // Form posts arrive base64 in AWS too.
    await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2',
    });
    const [binary, badText, form] = seen.map((s) => s.event);
    expect(binary?.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary?.body ?? '', 'base64')).toEqual(bytes);
    expect(badText?.isBase64Encoded).toBe(true);
    expect(Buffer.from(badText?.body ?? '', 'base64')).toEqual(bytes);
    expect(form?.isBase64Encoded).toBe(true);
    expect(Buffer.from(form?.body ?? '', 'base64').toString()).toBe('a=1&b=2');

    const res = await fetch(`${gateway.url}/binary`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-count')).toBe('3');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([0, 255, 1, 254]));
  });

  it('infers a 200 JSON response from a result without statusCode', async () => {
    const res = await fetch(`${gateway.url}/inferred`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('answers 413 for a body over 10 MB, streamed or declared, without calling the handler', async () => {
    const before = calls;
    const declared = await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(11 * 1024 * 1024),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toEqual({ message: 'Request Entity Too Large' });

    const chunk = new Uint8Array(1024 * 1024);
    const chunked = await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 12; i++) controller.enqueue(chunk);
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(calls).toBe(before);
  });

  it('answers 413 for a 7 MB body: over the 6 MB Lambda invoke payload', async () => {
    const before = calls;
    const res = await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blob: 'x'.repeat(7 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(calls).toBe(before);
    // The connection (and the gateway) stay usable.
    expect((await fetch(`${gateway.url}/jobs/after`)).status).toBe(200);
  });

  it('answers 404 ROUTE_NOT_FOUND in the API error shape for unknown routes and methods', async () => {
    for (const [method, path] of [
      ['GET', '/nope'],
      ['DELETE', '/jobs/abc'],
      ['GET', '/jobs/'],
    ] as const) {
      const res = await fetch(`${gateway.url}${path}`, { method });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: 'ROUTE_NOT_FOUND', message: `No route for ${method} ${path}`, details: {} },
      });
    }
  });

  it('answers 500 {"message":"Internal Server Error"} when the handler throws or returns garbage', async () => {
    errors.length = 0;
    for (const path of ['/throws', '/invalid']) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    }
    expect(String(errors[0])).toContain('boom');
    expect(errors).toHaveLength(2);
  });

  it('answers 500 when the function times out before the integration does', async () => {
    const res = await fetch(`${gateway.url}/slow-function`);
    expect(res.status).toBe(500);
    expect(String(errors.at(-1))).toContain('Task timed out');
  });

  it('requires the bearer token on auth routes only', async () => {
    expect((await fetch(`${gateway.url}/private`)).status).toBe(401);
    const wrong = await fetch(`${gateway.url}/private`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toEqual({ message: 'Forbidden' });
    const right = await fetch(`${gateway.url}/private`, {
      headers: { authorization: 'Bearer sekret-token' },
    });
    expect(right.status).toBe(204);
    expect((await fetch(`${gateway.url}/jobs/open`)).status).toBe(200);
  });
});

describe('gateway options', () => {
  it('answers 503 {"message":"Service Unavailable"} at the integration timeout', async () => {
    const gateway = await createGateway({
      integrationTimeoutMs: 150,
      onError: () => {},
      routes: [
        {
          method: 'GET',
          path: '/slow',
          handler: async () => {
            await sleep(500);
            return { statusCode: 200 };
          },
        },
      ],
    });
    try {
      const started = Date.now();
      const res = await fetch(`${gateway.url}/slow`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ message: 'Service Unavailable' });
      expect(Date.now() - started).toBeLessThan(450);
    } finally {
      await gateway.stop();
    }
  });

  it('hands unmatched requests to the fallback', async () => {
    const gateway = await createGateway({
      routes: [],
      fallback: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<h1>static</h1>');
      },
    });
    try {
      expect(await (await fetch(`${gateway.url}/index.html`)).text()).toBe('<h1>static</h1>');
    } finally {
      await gateway.stop();
    }
  });

  it('stops promptly with idle keep-alive connections open', async () => {
    const gateway = await createGateway({
      routes: [{ method: 'GET', path: '/ping', handler: async () => ({ statusCode: 200, body: 'pong' }) }],
    });
    const first = await fetch(`${gateway.url}/ping`);
    expect(first.headers.get('connection')).not.toBe('close');
    expect(await first.text()).toBe('pong');
    expect(await (await fetch(`${gateway.url}/ping`)).text()).toBe('pong');
    const started = Date.now();
    await gateway.stop();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects duplicate and malformed routes', async () => {
    const handler = async () => ({ statusCode: 200 });
    await expect(
      createGateway({
        routes: [
          { method: 'GET', path: '/a', handler },
          { method: 'GET', path: '/a', handler },
        ],
      }),
    ).rejects.toThrow(/duplicate/);
    await expect(createGateway({ routes: [{ method: 'GET', path: '/{p+}/x', handler }] })).rejects.toThrow(
      /greedy/,
    );
  });
});

describe('schedule', () => {
  it('never overlaps runs, skips ticks while busy, and counts the remaining time down', async () => {
    let active = 0;
    let maxActive = 0;
    const remaining: number[] = [];
    const events: unknown[] = [];
    const schedule = startSchedule({
      intervalMs: 20,
      timeoutMs: 5000,
      functionName: 'sweeper',
      handler: async (event, context) => {
        active++;
        maxActive = Math.max(maxActive, active);
        events.push(event);
        remaining.push(context.getRemainingTimeInMillis());
        await sleep(120);
        remaining.push(context.getRemainingTimeInMillis());
        active--;
        return 'done';
      },
    });
    await sleep(300);
    // runNow queues behind any in-flight run instead of overlapping it.
    await expect(Promise.all([schedule.runNow(), schedule.runNow()])).resolves.toEqual(['done', 'done']);
    await schedule.stop();
    expect(active).toBe(0);
    expect(maxActive).toBe(1);
    expect(schedule.runs).toBeGreaterThanOrEqual(3);
    expect(schedule.skipped).toBeGreaterThan(0);
    expect(remaining[0]).toBeGreaterThan(4800);
    expect(remaining[0]).toBeLessThanOrEqual(5000);
    expect((remaining[0] ?? 0) - (remaining[1] ?? 0)).toBeGreaterThanOrEqual(100);
    expect(events[0]).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      detail: {},
      resources: [expect.stringMatching(/^arn:aws:events:[a-z0-9-]+:\d{12}:rule\//)],
    });
    expect((events[0] as { time: string }).time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    await expect(schedule.runNow()).rejects.toThrow(/stopped/);
  });

  it('stop() waits for the in-flight run', async () => {
    let finished = false;
    const schedule = startSchedule({
      intervalMs: 60_000,
      handler: async () => {
        await sleep(150);
        finished = true;
      },
    });
    const run = schedule.runNow();
    await sleep(10);
    await schedule.stop();
    expect(finished).toBe(true);
    await run;
  });

  it('reports a timed-out run only after it really ended, so the next cannot overlap', async () => {
    const log: string[] = [];
    let n = 0;
    const schedule = startSchedule({
      intervalMs: 60_000,
      timeoutMs: 50,
      handler: async () => {
        const run = ++n;
        log.push(`start ${run}`);
        await sleep(120);
        log.push(`end ${run}`);
      },
    });
    const first = schedule.runNow();
    const second = schedule.runNow();
    await expect(first).rejects.toThrow(/Task timed out after 0.05 seconds/);
    expect(log.slice(0, 2)).toEqual(['start 1', 'end 1']);
    await expect(second).rejects.toThrow(/timed out/);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    await schedule.stop();
  });

  it('keeps going after a failing timer run', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const schedule = startSchedule({
      intervalMs: 20,
      onError: (error) => failures.push(error),
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('first run fails');
      },
    });
    await sleep(150);
    await schedule.stop();
    expect(failures).toHaveLength(1);
    expect(calls).toBeGreaterThan(1);
  });
});

describe('gateway: who is calling, as API Gateway IAM authorization says it', () => {
  const fixture = JSON.parse(
    readFileSync(resolve(import.meta.dirname, '../fixtures/events/apigw-http-iam.json'), 'utf8'),
  ) as { requestContext: { authorizer: { iam: Record<string, unknown> } } };
  const recorded = fixture.requestContext.authorizer.iam;

  async function eventsFrom(authToken: string | undefined, headers: Record<string, string>) {
    const events: APIGatewayProxyEventV2[] = [];
    const capture: GatewayRoute['handler'] = async (event) => {
      events.push(event);
      return { statusCode: 204 };
    };
    const gateway = await createGateway({
      ...(authToken !== undefined && { authToken }),
      routes: [
        { method: 'GET', path: '/jobs', auth: true, handler: capture },
        { method: 'POST', path: '/webhooks/{jobId}/{token}', handler: capture },
      ],
    });
    try {
      expect((await fetch(`${gateway.url}/jobs`, { headers })).status).toBe(204);
      expect((await fetch(`${gateway.url}/webhooks/a/b`, { method: 'POST' })).status).toBe(204);
    } finally {
      await gateway.stop();
    }
    return events.map(
      (e) => (e.requestContext as { authorizer?: { iam?: Record<string, unknown> } }).authorizer,
    );
  }

  it('gives client routes the same authorizer.iam fields, of the same types, as a recorded AWS event', async () => {
    const [client, webhook] = await eventsFrom('sekret-token', { authorization: 'Bearer sekret-token' });
    const iam = client?.iam ?? {};
    expect(Object.keys(iam).sort()).toEqual(Object.keys(recorded).sort());
    for (const [key, value] of Object.entries(recorded)) expect(typeof iam[key], key).toBe(typeof value);
    expect(iam.userArn).toMatch(/^arn:aws:(iam|sts)::\d{12}:/);
    expect(String(recorded.userArn)).toMatch(/^arn:aws:(iam|sts)::\d{12}:/);
    // The public webhook route carries no caller, as in AWS.
    expect(webhook).toBeUndefined();
  });

  it('names the caller by a hash of the token (never the token), or local-anonymous without one', async () => {
    const id = `local-${createHash('sha256').update('sekret-token').digest('hex').slice(0, 12)}`;
    const [withToken] = await eventsFrom('sekret-token', { authorization: 'Bearer sekret-token' });
    expect(withToken?.iam).toEqual({
      accessKey: 'LOCAL',
      accountId: '000000000000',
      callerId: id,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: `arn:aws:iam::000000000000:user/${id}`,
      userId: id,
    });
    expect(JSON.stringify(withToken)).not.toContain('sekret-token');
    const [anonymous] = await eventsFrom(undefined, {});
    expect(anonymous?.iam?.userArn).toBe('arn:aws:iam::000000000000:user/local-anonymous');
  });
});

describe('gateway: closed to web pages of other origins (F4)', () => {
  let gateway: Gateway;
  let calls = 0;
  beforeAll(async () => {
    const count: GatewayRoute['handler'] = async () => {
      calls++;
      return { statusCode: 200, body: '{}' };
    };
    gateway = await createGateway({
      allowedHosts: ['archiver.tunnel.example'],
      routes: [
        { method: 'POST', path: '/jobs', auth: true, handler: count },
        { method: 'POST', path: '/jobs/{jobId}/cancel', auth: true, handler: count },
        { method: 'GET', path: '/jobs', auth: true, handler: count },
        { method: 'POST', path: '/webhooks/{jobId}/{token}', handler: count },
      ],
    });
  });
  afterAll(() => gateway.stop());

  /** node:http lets a test set Host, which fetch does not. */
  function send(method: string, path: string, headers: Record<string, string>, body?: string) {
    return new Promise<{ status: number; json: unknown }>((done, fail) => {
      const req = httpRequest(`${gateway.url}${path}`, { method, headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', fail);
      req.end(body);
    });
  }

  it('refuses a Host that is not a loopback name (DNS rebinding), on every route', async () => {
    const before = calls;
    for (const path of ['/jobs', '/webhooks/a/b', '/']) {
      const res = await send(path === '/jobs' ? 'GET' : 'POST', path, { host: 'evil.example:8787' });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
    }
    expect(calls).toBe(before);
    for (const host of ['127.0.0.1:1', 'localhost:1', '[::1]:1', 'archiver.tunnel.example'])
      expect((await send('GET', '/jobs', { host })).status).toBe(200);
  });

  it('refuses cross-origin requests and non-JSON bodies on client routes (CSRF), with 403 and 415', async () => {
    const before = calls;
    const cancel = await send('POST', '/jobs/X/cancel', { origin: 'https://evil.example' });
    expect(cancel).toMatchObject({ status: 403, json: { error: { code: 'ORIGIN_NOT_ALLOWED' } } });
    expect((await send('POST', '/jobs/X/cancel', { origin: 'null' })).status).toBe(403);
    const form = await send(
      'POST',
      '/jobs',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'input=%7B%7D',
    );
    expect(form).toMatchObject({ status: 415, json: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expect((await send('POST', '/jobs', { 'content-type': 'text/plain' }, '{"input":{}}')).status).toBe(415);
    expect((await send('POST', '/jobs', {}, '{"input":{}}')).status).toBe(415);
    expect(calls).toBe(before);
    // What the CLI, curl and the archive browser send still passes.
    expect((await send('POST', '/jobs', { 'content-type': 'application/json' }, '{"input":{}}')).status).toBe(
      200,
    );
    expect((await send('POST', '/jobs/X/cancel', {})).status).toBe(200);
    expect((await send('POST', '/jobs/X/cancel', { origin: 'http://127.0.0.1:8787' })).status).toBe(200);
  });
});
