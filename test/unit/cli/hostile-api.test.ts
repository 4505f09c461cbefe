// The CLI against an API that answers what an attacker (or a compromised upstream) would: paths, links, escapes.

import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main.ts';

const ID = '01M8MBK7CZYSBNNNQ4WA2P5V5X';
const ESC = '\x1b]0;owned\x07\x1b[2J';
const CSI = '\u009b31m';
const BIDI = '\u202e';

let server: Server;
let base: string;
/** What GET /jobs/{id} answers; set per test. */
let answer: unknown;
/** How many 429s (Retry-After: 0) to answer before `answer`. */
let rateLimitedFor = 0;
const files: Record<string, string> = { '/files/result.json': '{"ok":true}', '/files/input.json': '{"p":1}' };

beforeAll(async () => {
  server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(file);
      return;
    }
    if (rateLimitedFor > 0) {
      rateLimitedFor--;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
      res.end(JSON.stringify({ error: { code: 'UPSTREAM_RATE_LIMITED', message: 'later', details: {} } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

async function run(argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await runCli(argv, {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env: { ARCHIVER_API_URL: base },
    signal: new AbortController().signal,
    now: () => Date.parse('2026-11-29T12:00:00Z'),
  });
  return { code, out, err };
}

function view(jobId: string, extra: Record<string, unknown> = {}) {
  return {
    job: {
      jobId,
      endpoint: 'default',
      state: 'ARCHIVED',
      upstreamStatus: 'COMPLETED',
      createdAt: '2026-11-29T11:00:00.000Z',
      resultBytes: 11,
      inputBytes: 7,
      ...extra,
    },
    events: [],
    links: { input: `${base}/files/input.json`, result: `${base}/files/result.json`, artifacts: [] },
  };
}

describe('archiver download builds paths only from the id it was given (F5)', () => {
  it('writes nothing when the API answers another job id, relative or absolute', async () => {
    for (const forged of [
      '../../escaped',
      '/tmp/absolute-escape',
      `${ID}/../../x`,
      '01M8MBK7CZYSBNNNQ4WA2P5V5Y',
    ]) {
      const dir = await mkdtemp(join(tmpdir(), 'cli-hostile-'));
      const out = join(dir, 'out');
      await mkdir(out);
      answer = view(forged);
      const res = await run(['download', ID, '--out', out]);
      expect(res.code).toBe(2);
      expect(res.err).toContain('refusing to write files');
      expect(await readdir(out)).toEqual([]);
      expect(await readdir(dir)).toEqual(['out']);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an id that is not a ULID before asking the API', async () => {
    const res = await run(['download', '../../etc', '--out', tmpdir()]);
    expect(res.code).toBe(1);
    expect(res.err).toContain('is not a job id');
  });

  it('never follows a link planted at the .part file or the job folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-hostile-'));
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'keep me');
    const folder = join(dir, ID);
    await mkdir(folder);
    await symlink(victim, join(folder, 'result.json.part'));
    answer = view(ID);
    const res = await run(['download', ID, '--out', dir]);
    expect(res.code).toBe(0);
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    expect(await readFile(join(folder, 'result.json'), 'utf8')).toBe('{"ok":true}');
    expect((await lstat(join(folder, 'result.json'))).isSymbolicLink()).toBe(false);

    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    const linked = await mkdtemp(join(tmpdir(), 'cli-hostile-'));
    await symlink(elsewhere, join(linked, ID));
    const through = await run(['download', ID, '--out', linked]);
    expect(through.code).toBe(1);
    expect(through.err).toContain('symbolic link');
    expect(await readdir(elsewhere)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
    await rm(linked, { recursive: true, force: true });
  });
});

describe('no upstream text reaches the terminal raw (F6)', () => {
  const hostile = {
    state: 'ARCHIVED',
    upstreamStatus: `FAILED${ESC}`,
    reason: `CUDA out of memory${ESC}${CSI}${BIDI}gnp.exe`,
    metadata: { [`team${BIDI}`]: `vision${ESC}`, order: `A-1\r\nfake: line` },
    artifacts: [{ key: `jobs/x/${ID}/artifacts/0-${ESC}.png`, contentType: 'image/png', bytes: 1 }],
  };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters
  const raw = /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it('get, get --events, get --json and list print escapes as visible text', async () => {
    answer = {
      ...view(ID, hostile),
      events: [
        { jobId: ID, at: '2026-11-29T11:00:00.000Z', type: `archived${ESC}`, detail: { reason: ESC } },
      ],
    };
    for (const argv of [
      ['get', ID],
      ['get', ID, '--events'],
      ['get', ID, '--json'],
    ]) {
      const res = await run(argv);
      expect(res.code, res.err).toBe(0);
      expect(res.out).not.toMatch(raw);
      expect(res.err).not.toMatch(raw);
      expect(res.out).toContain('\\u001b');
      // A value's line break never starts a line of its own in human output.
      if (!argv.includes('--json')) expect(res.out).not.toMatch(/^fake: line/m);
    }
    const json = await run(['get', ID, '--json']);
    // Still the same values once parsed: the escapes are JSON's own.
    expect(JSON.parse(json.out).job.reason).toBe(hostile.reason);
    answer = { jobs: [view(ID, hostile).job] };
    for (const format of ['table', 'csv', 'json']) {
      const res = await run(['list', '--format', format]);
      expect(res.code, res.err).toBe(0);
      expect(res.out).not.toMatch(raw);
    }
  });

  it('error messages from the API are cleaned too', async () => {
    answer = { error: { code: 'X', message: `bad${ESC}`, details: {} } };
    const bad = createServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((ok) => bad.listen(0, '127.0.0.1', ok));
    const address = bad.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    const saved = base;
    base = `http://127.0.0.1:${address.port}`;
    try {
      const res = await run(['get', ID]);
      expect(res.code, res.err).toBe(2);
      expect(res.err).toContain('bad\\u001b');
      expect(res.err).not.toMatch(raw);
    } finally {
      base = saved;
      await new Promise<void>((ok) => bad.close(() => ok()));
    }
  });
});

describe('a 429 is retried as documented (issue 12 item 3)', () => {
  it('waits Retry-After, says so on stderr, and ends with the answer', async () => {
    answer = view(ID);
    rateLimitedFor = 2;
    const res = await run(['get', ID]);
    expect(res.code, res.err).toBe(0);
    expect(res.err).toContain(
      `GET /jobs/${ID} answered 429 UPSTREAM_RATE_LIMITED; retrying in 0 ms (retry 1 of 3)`,
    );
    expect(res.err).toContain('(retry 2 of 3)');
    expect(res.out).toContain(ID);
  });
});
