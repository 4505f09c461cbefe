// `archiver get --events`, `archiver events` and `archiver list` against a local HTTP API: the trail is
// read page by page, tallies and actors are shown, and listings filter by principal.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/main.ts';

const JOB = '01M8MBK7CZYSBNNNQ4WA2P5V5X';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';
const event = (i: number) => ({
  jobId: JOB,
  at: `2026-11-29T12:00:${String(i).padStart(2, '0')}.000Z`,
  type: 'status.polled',
  source: 'sweeper',
  detail: { look: i },
});
const TRAIL = [
  { jobId: JOB, at: '2026-11-29T11:59:00.000Z', type: 'created', source: 'api', actor: ALICE },
  ...Array.from({ length: 9 }, (_, i) => event(i)),
  {
    jobId: JOB,
    at: '2026-11-29T12:30:00.000Z',
    firstAt: '2026-11-29T12:01:00.000Z',
    type: 'webhook.duplicate',
    source: 'webhook',
    count: 37000,
  },
];
const PAGE = 4;
const job = {
  jobId: JOB,
  endpoint: 'default',
  state: 'ARCHIVED',
  createdAt: TRAIL[0]?.at,
  submittedBy: ALICE,
};

let server: Server;
let api: string;
const requests: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${url.pathname}${url.search}`);
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const page = (from: number) => ({
      events: TRAIL.slice(from, from + PAGE),
      ...(from + PAGE < TRAIL.length && { cursor: String(from + PAGE) }),
    });
    if (url.pathname === `/jobs/${JOB}`) {
      const first = page(0);
      return send({ job, events: first.events, eventsCursor: first.cursor, links: { artifacts: [] } });
    }
    if (url.pathname === `/jobs/${JOB}/events`)
      return send(page(Number(url.searchParams.get('cursor') ?? 0)));
    if (url.pathname === '/jobs') return send({ jobs: [job] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests.length = 0;
});

async function cli(argv: string[]) {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const code = await runCli(['--api', api, ...argv], {
    stdout,
    stderr: new PassThrough(),
    stdin: Readable.from([]),
    env: {},
    signal: new AbortController().signal,
    now: () => Date.parse('2026-11-29T13:00:00Z'),
  });
  return { code, out };
}

describe('the audit trail in the CLI', () => {
  it('get --events reads every page after the first, and shows actors and tallies', async () => {
    const { code, out } = await cli(['get', JOB, '--events']);
    expect(code).toBe(0);
    expect(out).toContain(`Audit trail (${TRAIL.length} events)`);
    expect(out).toMatch(/submitted by\s+arn:aws:sts::123456789012:assumed-role\/Admin\/alice/);
    expect(out).toContain('assumed-role/Admin/alice@123456789012');
    expect(out).toContain('webhook.duplicate ×37000 since 2026-11-29T12:01:00.000Z');
    for (let i = 0; i < 9; i++) expect(out).toContain(`look=${i}`);
  });

  it('events streams the whole trail as JSON lines, page by page, without asking for download links', async () => {
    const { code, out } = await cli(['events', JOB]);
    expect(code).toBe(0);
    expect(
      out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(TRAIL);
    expect(requests.every((r) => r.startsWith(`/jobs/${JOB}/events`))).toBe(true);
    expect(requests).toHaveLength(Math.ceil(TRAIL.length / PAGE));
  });

  it('list --principal asks for that principal and shows who submitted each job', async () => {
    const { code, out } = await cli(['list', '--principal', ALICE]);
    expect(code).toBe(0);
    expect(new URL(requests[0] ?? '', 'http://x').searchParams.get('principal')).toBe(ALICE);
    expect(out).toContain('SUBMITTED BY');
    expect(out).toContain('assumed-role/Admin/alice@123456789012');
  });
});
