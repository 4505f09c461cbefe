// `archiver submit --file jobs.jsonl` as a user runs it: a child process against local mode's real HTTP API.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { FAST_CONFIG, FAST_EMULATOR } from '../support/e2e-stack.ts';

const ARCHIVER = resolve(import.meta.dirname, '../../bin/archiver.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], apiUrl: string): Promise<Run> {
  const env = { ...process.env, ARCHIVER_API_URL: apiUrl, ARCHIVER_TOKEN: undefined };
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [ARCHIVER, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end();
  });
}

describe('archiver submit --file', () => {
  let stack: LocalStack;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archiver-cli-file-'));
    stack = await startLocalStack({
      port: 0,
      dataDir: dir,
      dynamoInMemory: true,
      sweepIntervalMs: 250,
      config: FAST_CONFIG,
      emulator: FAST_EMULATOR,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues every good line in batches and names each refused line by its number', async () => {
    const lines = [
      ...Array.from({ length: 150 }, (_, i) => JSON.stringify({ input: { n: i } })),
      'not json',
      JSON.stringify({ input: 'not an object' }),
      '',
      JSON.stringify({ metadata: { a: 'b' } }),
    ];
    const file = join(dir, 'jobs.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    const run = await cli(['submit', '--file', file], stack.url);
    expect(run.code, run.stderr).toBe(2);
    const rows = run.stdout
      .trim()
      .split('\n')
      .map((r) => r.split('\t'));
    expect(rows).toHaveLength(153);
    // Each good line names its job. A batch the CLI sent again (a 503 or a timeout on a busy machine) is
    // answered by replays: the job's state by then, said to be already submitted.
    const queued = rows.filter((r) => r[1] !== '-');
    expect(queued).toHaveLength(150);
    for (const r of queued)
      expect(r[2]).toMatch(/^(QUEUED|SUBMITTING|PENDING|ARCHIVED|FAILED)( \(already submitted\))?$/);
    expect(new Set(queued.map((r) => r[1])).size).toBe(150);
    expect(rows.filter((r) => r[1] === '-').map((r) => [r[0], r[2]?.split(':')[0]])).toEqual([
      ['151', 'REFUSED BAD_LINE'],
      ['152', 'REFUSED INVALID_REQUEST'],
      ['154', 'REFUSED BAD_LINE'],
    ]);
    expect(run.stderr).toMatch(/150 of 153 lines queued, 3 refused/);
    expect(run.stderr).toMatch(/line 151: BAD_LINE: not JSON/);
    // Plain progress lines, not a redrawn bar: stderr is not a terminal here.
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).toMatch(/answered, \d+ refused/);

    // The same file again with the printed key prefix: nothing is queued twice.
    const prefix = /--idempotency-key (\S+)\)/.exec(run.stderr)?.[1] ?? '';
    const again = await cli(['submit', '--file', file, '--idempotency-key', prefix, '--json'], stack.url);
    const results = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; jobId?: string; replayed?: boolean });
    const byLine = new Map(queued.map((r) => [Number(r[0]), r[1]]));
    const replayed = results.filter((r) => r.jobId);
    expect(replayed).toHaveLength(150);
    for (const r of replayed) {
      expect(r.replayed).toBe(true);
      expect(r.jobId).toBe(byLine.get(r.line));
    }
  });

  it('waits out a 503 with Retry-After and sends the batch again', async () => {
    let refused = 0;
    const busy: Server = createServer(async (req, res) => {
      if (req.url === '/jobs/batch' && refused === 0) {
        refused++;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: { code: 'QUEUE_UNAVAILABLE', message: 'busy' } }));
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const upstream = await fetch(`${stack.url}${req.url}`, {
        method: req.method ?? 'GET',
        headers: { 'content-type': 'application/json' },
        ...(chunks.length && { body: Buffer.concat(chunks) }),
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(await upstream.text());
    });
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const address = busy.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const file = join(dir, 'retry.jsonl');
      await writeFile(file, `${JSON.stringify({ input: { retry: true } })}\n`);
      const run = await cli(['submit', '--file', file], `http://127.0.0.1:${port}`);
      expect(run.code, run.stderr).toBe(0);
      expect(refused).toBe(1);
      expect(run.stderr).toMatch(/busy \(503\): retrying 1 lines in 1 s/);
      expect(run.stdout).toMatch(/^1\t\S+\tQUEUED\n$/);
    } finally {
      await new Promise<void>((ok) => busy.close(() => ok()));
    }
  });
});
