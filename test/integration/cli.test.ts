// The archiver CLI as a user runs it: a real child process per command against an in-process local stack.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, PublicJob } from '../../functions/core/results.ts';
import { setRuntime } from '../../functions/runtime.ts';
import type { Emulator } from '../../local/emulator/index.ts';
import { LOCAL_ENDPOINT_ID, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { readPng } from '../support/e2e-png.ts';

const ARCHIVER = resolve(import.meta.dirname, '../../bin/archiver.mjs');
const RUN = randomUUID().slice(0, 8);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let stack: LocalStack;
let emulator: Emulator;
let dir: string;

/** `archiver ...args` as a child process; `stdin` is piped in when given, else stdin is closed. */
function cli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string | undefined> } = {},
): Promise<Run> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ARCHIVER_API_URL: stack.url,
    ARCHIVER_TOKEN: undefined,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  };
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
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** Fails with the child's output, which says far more than "expected 2 to be 0". */
function expectExit(run: Run, code: number): void {
  if (run.code !== code)
    throw new Error(`exit ${run.code}, wanted ${code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${stack.url}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const view = (jobId: string) => api<JobView>(`/jobs/${jobId}`);

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

const WAIT = ['--wait', '--poll-interval', '200ms'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'archiver-cli-'));
  stack = await startLocalStack({
    port: 0,
    dataDir: join(dir, 'data'),
    dynamoInMemory: true,
    sweepIntervalMs: 200,
    config: { FIRST_LOOK_MS: '300', LOOK_INTERVAL_MS: '300', LOG_LEVEL: 'silent' },
    emulator: { webhookRetryDelayMs: 200 },
  });
  if (!stack.emulator) throw new Error('the stack has no emulator');
  emulator = stack.emulator;
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('archiver CLI', () => {
  const ids: Record<string, string> = {};

  it('answers --help, and maps failures to exit codes: usage 1, API 2, not found 3, unreachable 4, credentials 5', async () => {
    const port = await closedPort();
    const noCredentials = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'eu-west-1',
    };
    const failures = Promise.all([
      cli(['frobnicate']),
      cli(['list', '--colour']),
      cli(['submit', '--input', '["not","an","object"]']),
      cli(['get', '01M8MBK7CZYSBNNNQ4WA2P5V5X']),
      cli(['list'], { env: { ARCHIVER_API_URL: `http://127.0.0.1:${port}` } }),
      cli(['list', '--sigv4'], { env: noCredentials }),
      cli(['submit']),
    ]);
    const [main, submit, none, [usage, unknownFlag, badInput, notFound, unreachable, credentials, noInput]] =
      await Promise.all([cli(['--help']), cli(['submit', '--help']), cli([]), failures]);
    expectExit(main, 0);
    const commands = [
      'submit',
      'track',
      'get',
      'events',
      'download',
      'list',
      'export',
      'cancel',
      'reconcile',
    ];
    for (const name of commands) expect(main.stdout).toContain(`  ${name} `);
    expect(main.stdout).toContain('Exit codes');
    expectExit(submit, 0);
    expect(submit.stdout).toContain('--idempotency-key KEY');
    expect(submit.stdout).toContain('--input-file FILE');
    expectExit(none, 1);
    expect(none.stderr).toContain('Usage: archiver <command>');

    expectExit(usage, 1);
    expect(usage.stderr).toContain('unknown command "frobnicate"');
    expectExit(unknownFlag, 1);
    expect(unknownFlag.stderr).toContain('--colour');
    expectExit(noInput, 1);
    expect(noInput.stderr).toContain('--input-file');
    expectExit(badInput, 2);
    expect(badInput.stderr).toContain('INVALID_REQUEST');
    expect(badInput.stderr).toContain('input must be a JSON object');
    expectExit(notFound, 3);
    expect(notFound.stderr).toContain('JOB_NOT_FOUND');
    expectExit(unreachable, 4);
    expect(unreachable.stderr).toContain(
      `cannot reach the archiver API at http://127.0.0.1:${port}: connection refused`,
    );
    expectExit(credentials, 5);
    expect(credentials.stderr).toContain('no AWS credentials');
  });

  it('submits from a flag, a file and stdin, waits with a status line, and exits 6 for a failed job', async () => {
    const file = join(dir, 'input.json');
    await writeFile(file, JSON.stringify({ prompt: 'from a file' }));
    const [flag, fromFile, stdin, failed, slow] = await Promise.all([
      cli([
        'submit',
        '--input',
        '{"prompt":"from a flag"}',
        '--meta',
        `suite=${RUN}`,
        '--meta',
        'kind=flag',
        ...WAIT,
      ]),
      cli(['submit', '--input-file', file, '--meta', `suite=${RUN}`, '--policy-ttl', '1h', ...WAIT]),
      cli(['submit', '--input', '-', '--meta', `suite=${RUN}`, '--json', ...WAIT], {
        stdin: '{"handler":"image-base64"}',
      }),
      cli(['submit', '--input', '{"handler":"fail","message":"boom"}', ...WAIT]),
      // Cancelled later: it runs for 30 s.
      cli(['submit', '--input', '{"handler":"slow","durationMs":30000}']),
    ]);
    expectExit(slow, 0);
    ids.slow = slow.stdout.trim();
    for (const run of [flag, fromFile, stdin]) {
      expectExit(run, 0);
      expect(run.stderr).toMatch(/idempotency key cli-[0-9a-f-]{36}/);
      expect(run.stderr).toMatch(/ARCHIVED \(COMPLETED\)/);
    }
    // Off a terminal the status line prints only changes: the first state, then the end.
    expect(flag.stderr).toMatch(/PENDING|SUBMITTING/);
    ids.flag = flag.stdout.trim();
    ids.file = fromFile.stdout.trim();
    const image = JSON.parse(stdin.stdout) as { job: PublicJob };
    ids.image = image.job.jobId;
    expect(image.job).toMatchObject({
      state: 'ARCHIVED',
      upstreamStatus: 'COMPLETED',
      metadata: { suite: RUN },
    });
    expect(ids.flag).toMatch(/^[0-9A-Z]{26}$/);

    const [flagView, fileView] = await Promise.all([view(ids.flag), view(ids.file)]);
    expect(flagView.job.metadata).toEqual({ suite: RUN, kind: 'flag' });
    expect(fileView.job.policy).toMatchObject({ ttl: 3_600_000 });
    const input = await (await fetch(fileView.links.input ?? '')).json();
    expect(input).toEqual({ prompt: 'from a file' });

    expectExit(failed, 6);
    expect(failed.stderr).toContain('ARCHIVED (FAILED)');
    ids.failed = failed.stdout.trim();
  });

  it('a retried submit with the same --idempotency-key, and a re-tracked upstream job, give the first job back', async () => {
    await Promise.all([retrySubmit(), trackTwice()]);
  });

  async function retrySubmit(): Promise<void> {
    const key = `retry-${RUN}`;
    const first = await cli(['submit', '--input', '{"prompt":"once"}', '--idempotency-key', key]);
    expectExit(first, 0);
    const again = await cli(['submit', '--input', '{"prompt":"once"}', '--idempotency-key', key]);
    expectExit(again, 0);
    expect(again.stdout.trim()).toBe(first.stdout.trim());
    expect(again.stderr).toContain('already submitted');
  }

  /** A job submitted straight to the upstream, then adopted. */
  async function trackTwice(): Promise<void> {
    const res = await fetch(`${emulator.baseUrlFor(LOCAL_ENDPOINT_ID)}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { prompt: 'submitted elsewhere' } }),
    });
    const { id } = (await res.json()) as { id: string };
    const run = await cli(['track', id, '--meta', `suite=${RUN}`, ...WAIT]);
    expectExit(run, 0);
    expect(run.stderr).toContain('tracking');
    const tracked = await view(run.stdout.trim());
    expect(tracked.job).toMatchObject({ origin: 'tracked', upstreamId: id, state: 'ARCHIVED' });
    const again = await cli(['track', id]);
    expectExit(again, 0);
    expect(again.stdout.trim()).toBe(tracked.job.jobId);
    expect(again.stderr).toContain('already tracked');
  }

  it('cancels a running job, and refuses to cancel it twice', async () => {
    const id = ids.slow ?? '';
    const cancelled = await cli(['cancel', id]);
    expectExit(cancelled, 0);
    // People read stderr, scripts stdout: the human line is on stderr like every other command's.
    expect(cancelled.stderr).toContain(`cancelled: ${id}  ARCHIVED (CANCELLED)`);
    expect(cancelled.stdout.trim()).toBe(id);
    const again = await cli(['cancel', id]);
    expectExit(again, 2);
    expect(again.stderr).toContain('JOB_STATE_CONFLICT');
  });

  it('gets a job as text, as JSON, with its audit trail, and exports the trail as JSON lines', async () => {
    const id = ids.image ?? '';
    const [text, json, events, eventsJson, trail] = await Promise.all([
      cli(['get', id]),
      cli(['get', id, '--json']),
      cli(['get', id.toLowerCase(), '--events']),
      cli(['get', id, '--events', '--json']),
      cli(['events', id]),
    ]);
    for (const run of [text, json, events, eventsJson, trail]) expectExit(run, 0);
    expect(text.stdout).toContain(`Job ${id}  ARCHIVED (COMPLETED)`);
    expect(text.stdout).toMatch(/artifacts\s+1/);
    expect(text.stdout).toContain('image/png');
    expect(text.stdout).toContain(`suite=${RUN}`);
    const parsed = JSON.parse(json.stdout) as JobView;
    expect(parsed.job.jobId).toBe(id);
    expect(parsed.links.artifacts).toHaveLength(1);
    expect(events.stdout).toContain('Audit trail');
    for (const type of ['created', 'submitted', 'archived']) expect(events.stdout).toContain(type);
    const lines = trail.stdout.trim().split('\n');
    const types = lines.map((l) => (JSON.parse(l) as { type: string; jobId: string }).type);
    expect(types).toContain('archived');
    expect(types[0]).toBe('created');
    // The concurrent gets issue download links meanwhile, each an audit line: only those may differ.
    const withoutLinks = (out: string) =>
      out
        .split('\n')
        .filter((line) => !line.includes('"type":"links.issued"'))
        .join('\n');
    expect(withoutLinks(eventsJson.stdout)).toBe(withoutLinks(trail.stdout));
  });

  it('downloads input, result and artifacts byte for byte', async () => {
    const id = ids.image ?? '';
    const out = join(dir, 'downloads');
    const run = await cli(['download', id, '--out', out]);
    expectExit(run, 0);
    const folder = join(out, id);
    expect(run.stdout.trim()).toBe(folder);
    expect(run.stderr).toContain('result.json');
    const served = await view(id);
    const bytes = async (url: string | undefined) =>
      Buffer.from(await (await fetch(url ?? '')).arrayBuffer());
    expect(await readFile(join(folder, 'input.json'))).toEqual(await bytes(served.links.input));
    expect(await readFile(join(folder, 'result.json'))).toEqual(await bytes(served.links.result));
    const artifact = served.links.artifacts[0];
    const name = artifact?.key.slice(artifact.key.lastIndexOf('/') + 1) ?? '';
    expect(await readdir(join(folder, 'artifacts'))).toEqual([name]);
    const png = await readFile(join(folder, 'artifacts', name));
    expect(png).toEqual(await bytes(artifact?.url));
    expect(png.length).toBe(artifact?.bytes);
    expect(readPng(png).width).toBeGreaterThan(0);
    expect((await readdir(folder)).sort()).toEqual(['artifacts', 'input.json', 'result.json']);
  });

  it('lists as a table, JSON and CSV, with filters and --all pagination', async () => {
    const [table, json, csv, archived, all, byEndpoint, badState, page] = await Promise.all([
      cli(['list', '--tag', `suite=${RUN}`]),
      cli(['list', '--tag', `suite=${RUN}`, '--format', 'json']),
      cli(['list', '--tag', `suite=${RUN}`, '--format', 'csv', '--from', '1h']),
      cli(['list', '--state', 'archived', '--format', 'json', '--limit', '100']),
      cli(['list', '--all', '--limit', '2', '--format', 'json']),
      cli(['list', '--endpoint', 'nope', '--format', 'json']),
      cli(['list', '--state', 'DONE']),
      cli(['list', '--limit', '2']),
    ]);
    for (const run of [table, json, csv, archived, all, byEndpoint]) expectExit(run, 0);
    const tagged = [ids.flag, ids.file, ids.image].sort();
    const listed = (JSON.parse(json.stdout) as { jobs: PublicJob[] }).jobs;
    expect(
      listed
        .map((j) => j.jobId)
        .filter((id) => tagged.includes(id))
        .sort(),
    ).toEqual(tagged);
    expect(listed.every((j) => j.metadata?.suite === RUN)).toBe(true);
    expect(table.stdout.split('\n')[0]).toMatch(/^JOB ID\s+CREATED\s+ENDPOINT\s+STATE/);
    for (const id of tagged) expect(table.stdout).toContain(`${id}  `);
    const records = csv.stdout.trim().split('\r\n');
    expect(records[0]).toMatch(/^jobId,createdAt,endpoint,state,upstreamStatus/);
    expect(records).toHaveLength(1 + listed.length);
    expect(records.slice(1).every((r) => r.includes(`""suite"":""${RUN}""`))).toBe(true);
    expect(
      (JSON.parse(archived.stdout) as { jobs: PublicJob[] }).jobs.every((j) => j.state === 'ARCHIVED'),
    ).toBe(true);
    expect((JSON.parse(byEndpoint.stdout) as { jobs: PublicJob[] }).jobs).toEqual([]);
    expectExit(badState, 2);
    expect(badState.stderr).toContain('INVALID_REQUEST');

    // --all at two per page gathers what one big page of the API holds, each job once.
    const everything = await api<{ jobs: PublicJob[] }>('/jobs?limit=100');
    const paged = JSON.parse(all.stdout) as { jobs: PublicJob[]; cursor?: string };
    expect(paged.cursor).toBeUndefined();
    expect(paged.jobs.map((j) => j.jobId)).toEqual(everything.jobs.map((j) => j.jobId));
    expect(everything.jobs.length).toBeGreaterThan(4);

    expectExit(page, 0);
    const next = /more jobs: archiver (list .*--cursor \S+)/.exec(page.stderr)?.[1];
    expect(next).toBeDefined();
    const second = await cli([...(next ?? '').split(' '), '--format', 'json']);
    expectExit(second, 0);
    expect((JSON.parse(second.stdout) as { jobs: PublicJob[] }).jobs.map((j) => j.jobId)).toEqual(
      everything.jobs.slice(2, 4).map((j) => j.jobId),
    );
  });

  it('exports JSON lines, stops with a cursor, and resumes with the rest and no duplicates', async () => {
    const file = join(dir, 'export.jsonl');
    const [first, toStdout] = await Promise.all([
      cli(['export', '--page-size', '2', '--max-pages', '1', '--out', file]),
      cli(['export', '--from', '1h']),
    ]);
    expectExit(first, 0);
    const resume = /continue with: archiver (export .*)$/m.exec(first.stderr)?.[1];
    expect(resume).toContain('--cursor ');
    expect(resume).toContain(`--out ${file}`);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);

    const rest = await cli((resume ?? '').split(' '));
    expectExit(rest, 0);
    expect(rest.stderr).toMatch(/exported \d+ jobs? to /);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const exported = lines.map((l) => (JSON.parse(l) as PublicJob).jobId);
    const everything = await api<{ jobs: PublicJob[] }>('/jobs?limit=100');
    expect(exported).toEqual(everything.jobs.map((j) => j.jobId));
    expect(new Set(exported).size).toBe(exported.length);

    expectExit(toStdout, 0);
    const streamed = toStdout.stdout.trim().split('\n');
    expect(streamed.map((l) => (JSON.parse(l) as PublicJob).jobId)).toEqual(exported);
  });

  it('reconciles an ambiguous submit: lists it, refuses a bogus upstream id, attaches the real one', async () => {
    // /run runs the job but its answer is lost (502), and the webhook never comes: the submit is ambiguous.
    emulator.setFaults({ lostResponse: { run: 1 }, webhookDrop: 1 });
    try {
      await reconcileAmbiguous();
    } finally {
      emulator.setFaults({});
    }
  });

  async function reconcileAmbiguous(): Promise<void> {
    const key = `ambiguous-${RUN}`;
    const submitted = await cli(['submit', '--input', '{"prompt":"lost"}', '--idempotency-key', key]);
    // Later /run calls answer again; the webhook stays dropped so only reconcile can settle this job.
    emulator.setFaults({ webhookDrop: 1 });
    expectExit(submitted, 2);
    expect(submitted.stderr).toMatch(/UPSTREAM_/);
    expect(submitted.stderr).toContain(`--idempotency-key ${key}`);

    const submitting = await api<{ jobs: PublicJob[] }>('/jobs?state=SUBMITTING');
    const id = submitting.jobs[0]?.jobId ?? '';
    // The job the ambiguous submit made is named on stdout and in the hints, ready for reconcile.
    expect(submitted.stdout.trim()).toBe(id);
    expect(submitted.stderr).toContain(`job ${id} stays SUBMITTING (submit ambiguous)`);
    expect(submitted.stderr).toContain(`archiver reconcile ${id} --upstream-id`);
    // The emulator's request log names the upstream job that lost /run created, and whose callback it had.
    const log = await fetch(`${emulator.baseUrlFor(LOCAL_ENDPOINT_ID)}/requests`, {
      headers: { authorization: `Bearer ${emulator.apiKey}` },
    });
    const requests = ((await log.json()) as { requests: Array<Record<string, unknown>> }).requests;
    const logged = requests.find((r) => r.operation === 'run' && r.webhookJobId === id);
    expect(logged?.jobId).toEqual(expect.any(String));
    const [listing, listingJson, bogus] = await Promise.all([
      cli(['reconcile']),
      cli(['reconcile', '--json']),
      cli(['reconcile', id, '--upstream-id', `bogus-${RUN}`]),
    ]);
    expectExit(listing, 0);
    expectExit(listingJson, 0);
    const ambiguous = (JSON.parse(listingJson.stdout) as { jobs: PublicJob[] }).jobs;
    expect(ambiguous).toHaveLength(1);
    expect(ambiguous[0]).toMatchObject({ jobId: id, state: 'SUBMITTING', submitAmbiguous: true });
    expect(listing.stdout).toContain(id);
    expect(listing.stderr).toContain(`archiver reconcile <jobId> --upstream-id <upstreamId>`);

    const upstream = emulator.jobs.list().find((j) => j.webhook?.includes(id));
    expect(upstream).toBeDefined();
    expect(logged?.jobId).toBe(upstream?.id);
    expectExit(bogus, 3);
    expect(bogus.stderr).toContain('UPSTREAM_NOT_FOUND');

    const settled = await cli(['reconcile', id, '--upstream-id', upstream?.id ?? '', ...WAIT]);
    expectExit(settled, 0);
    expect(settled.stdout.trim()).toBe(id);
    expect((await view(id)).job).toMatchObject({ state: 'ARCHIVED', upstreamId: upstream?.id });
    // Settled: no longer shown as "submit ambiguous".
    expect(settled.stderr).not.toContain('submit ambiguous');
    const shown = await cli(['get', id]);
    expect(shown.stdout).not.toContain('ambiguous: the upstream may have the job');
    expect(shown.stdout).toContain('since settled');
    const none = await cli(['reconcile']);
    expectExit(none, 0);
    expect(none.stderr).toContain('no job with an ambiguous submit');
  }

  it('says in one sentence why an upstream id cannot be attached to a running job', async () => {
    const running = await cli(['submit', '--input', '{"handler":"slow","durationMs":30000}']);
    expectExit(running, 0);
    const id = running.stdout.trim();
    const upstreamId = (await view(id)).job.upstreamId;
    const other = await cli(['reconcile', id, '--upstream-id', `other-${RUN}`]);
    expectExit(other, 2);
    expect(other.stderr).toContain(
      `JOB_STATE_CONFLICT: Cannot attach upstream job other-${RUN} to job ${id}: it already has upstream job ${upstreamId}`,
    );
    expectExit(await cli(['cancel', id]), 0);
  });

  it('every field a job record or /health carries is documented in the README', async () => {
    const readme = await readFile(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const { jobs } = await api<{ jobs: PublicJob[] }>('/jobs?limit=100');
    const fields = new Set(jobs.flatMap((j) => Object.keys(j)));
    expect(fields.size).toBeGreaterThan(10);
    const health = await api<Record<string, unknown>>('/health');
    // Named in the text (`field`) or shown in the README's example record ("field": ...).
    const undocumented = [...fields, ...Object.keys(health)].filter(
      (field) => !readme.includes(`\`${field}\``) && !readme.includes(`"${field}":`),
    );
    expect(undocumented).toEqual([]);
  });

  it('continue hints repeat --api, so they work as printed without ARCHIVER_API_URL', async () => {
    const noEnv = { ARCHIVER_API_URL: undefined };
    const page = await cli(['--api', stack.url, 'list', '--limit', '1'], { env: noEnv });
    expectExit(page, 0);
    const more = /more jobs: archiver (.*?)\s+\(or --all\)$/m.exec(page.stderr)?.[1];
    expect(more).toMatch(new RegExp(`^--api ${stack.url.replace(/[.:/]/g, '\\$&')} list `));
    const next = await cli((more ?? '').split(' '), { env: noEnv });
    expectExit(next, 0);
    const partial = await cli(['--api', stack.url, 'export', '--page-size', '1', '--max-pages', '1'], {
      env: noEnv,
    });
    expectExit(partial, 0);
    const resume = /continue with: archiver (.*)$/m.exec(partial.stderr)?.[1] ?? '';
    expect(resume.startsWith(`--api ${stack.url} export `)).toBe(true);
    expectExit(await cli(resume.split(' '), { env: noEnv }), 0);
  });

  it('says plainly when an export finds nothing, and checks policy durations in durations', async () => {
    const empty = await cli(['export', '--from', '2020-01-01', '--to', '2020-01-02']);
    expectExit(empty, 0);
    expect(empty.stderr).toContain('no jobs from 2020-01-01T00:00:00.000Z to 2020-01-02T00:00:00.000Z match');
    expect(empty.stderr).not.toContain('back to');
    const short = await cli(['submit', '--input', '{}', '--policy-ttl', '3s']);
    expectExit(short, 1);
    expect(short.stderr).toContain('--policy-ttl must be from 10 s to 7 days, got 3s');
    const ok = await cli(['submit', '--input', '{}', '--policy-ttl', '90s', '--execution-timeout', '1m']);
    expectExit(ok, 0);
    expect((await view(ok.stdout.trim())).job.policy).toMatchObject({
      ttl: 90_000,
      executionTimeout: 60_000,
    });
  });

  it('submit --wait off a terminal prints each state once, and leaves the job id on stdout after Ctrl-C', async () => {
    const env = { ...process.env, ARCHIVER_API_URL: stack.url, ARCHIVER_TOKEN: undefined };
    const child = spawn(
      process.execPath,
      [ARCHIVER, 'submit', '--input', '{"handler":"slow","durationMs":30000}', ...WAIT],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const waiting = new Promise<void>((ok) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/when last seen/.test(stderr)) ok();
      });
    });
    await waiting;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(code, stderr).toBe(130);
    const id = stdout.trim();
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect(stderr).toContain(`stopped waiting; job ${id} goes on`);
    expect(stderr).toContain(`PENDING, upstream IN_QUEUE when last seen`);
    const statusLines = stderr.split('\n').filter((l) => l.includes('when last seen'));
    expect(new Set(statusLines.map((l) => l.split('  ')[1])).size).toBe(statusLines.length);
    expectExit(await cli(['cancel', id]), 0);
  });
});

describe('npm start, as a newcomer meets it', () => {
  const LOCAL = resolve(import.meta.dirname, '../../bin/local.ts');
  function start(args: string[], env: Record<string, string | undefined>) {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', LOCAL, ...args], {
      env: { ...process.env, ARCHIVER_TOKEN: undefined, AWS_ENDPOINT_URL_DYNAMODB: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const closed = new Promise<number | null>((ok) => child.on('close', ok));
    return { child, output: () => out, closed };
  }

  it('prints a banner with the emulator key, both URL styles and an endpoint id, and never the token', async () => {
    const dataDir = join(dir, 'npm-start');
    const run = start(['--no-demo'], {
      PORT: '0',
      ARCHIVER_DATA_DIR: dataDir,
      ARCHIVER_TOKEN: 'do-not-print-me-0123456789',
    });
    while (!run.output().includes('Ctrl-C to stop')) {
      if (run.child.exitCode !== null) throw new Error(run.output());
      await new Promise((ok) => setTimeout(ok, 50));
    }
    run.child.kill('SIGINT');
    await run.closed;
    const banner = run.output();
    expect(banner).not.toContain('do-not-print-me');
    expect(banner).toContain('$ARCHIVER_TOKEN');
    expect(banner).toContain(`endpoint id ${LOCAL_ENDPOINT_ID}, API key `);
    expect(banner).toMatch(/\/v2\/local-endpoint\/run {3}\(RunPod style\)/);
    expect(banner).toMatch(/\/api\/v1\/sl\/local-endpoint\/run {3}\(SubModel style\)/);
    expect(banner).toContain('kept in the data folder across restarts');
  });

  it('a job running when the stack stops is archived after a restart on the same folder, not EXPIRED', async () => {
    const dataDir = join(dir, 'restart');
    const options = {
      port: 0,
      dataDir,
      sweepIntervalMs: 200,
      config: {
        FIRST_LOOK_MS: '300',
        LOOK_INTERVAL_MS: '300',
        NOT_FOUND_GRACE_MS: '300',
        LOG_LEVEL: 'silent',
      },
    };
    const first = await startLocalStack(options);
    const submitted = await fetch(`${first.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { handler: 'slow', durationMs: 1500 } }),
    });
    const { job } = (await submitted.json()) as { job: PublicJob };
    await first.emulator?.jobs.waitFor(job.upstreamId ?? '', 'IN_PROGRESS');
    await first.stop();
    const second = await startLocalStack(options);
    try {
      expect(second.emulator?.restored).toBe(1);
      for (;;) {
        const seen = ((await (await fetch(`${second.url}/jobs/${job.jobId}`)).json()) as JobView).job;
        expect(seen.state).not.toBe('EXPIRED');
        if (seen.state === 'ARCHIVED') {
          expect(seen.upstreamStatus).toBe('COMPLETED');
          break;
        }
        await new Promise((ok) => setTimeout(ok, 200));
      }
    } finally {
      await second.stop();
      setRuntime(stack.runtime);
    }
  });

  it('names an external DynamoDB in the banner instead of the embedded one', async () => {
    const run = start(['--no-demo'], {
      PORT: '0',
      // The same data folder: its key pair is what the suite's (guarded) DynamoDB accepts.
      ARCHIVER_DATA_DIR: join(dir, 'data'),
      AWS_ENDPOINT_URL_DYNAMODB: stack.stores.dynamoEndpoint,
    });
    while (!run.output().includes('Ctrl-C to stop')) {
      if (run.child.exitCode !== null) throw new Error(run.output());
      await new Promise((ok) => setTimeout(ok, 50));
    }
    run.child.kill('SIGINT');
    await run.closed;
    expect(run.output()).toContain(
      `(DynamoDB ${stack.stores.dynamoEndpoint} (AWS_ENDPOINT_URL_DYNAMODB), table submodel-archiver-jobs, S3 bucket`,
    );
  });

  it('npm run demo archives every job, the sync one by runsync, and leaves no folder behind', async () => {
    const temp = await mkdtemp(join(dir, 'tmp-'));
    const demo = start(['--demo-only'], { TMPDIR: temp });
    const code = await demo.closed;
    expect(code, demo.output()).toBe(0);
    expect(demo.output()).toMatch(/^sync\s+COMPLETED\s+runsync\s/m);
    expect(demo.output()).toContain('the demo folder was removed');
    // (tsx keeps its compile cache there too; only the demo's own folder matters.)
    expect((await readdir(temp)).filter((name) => name.startsWith('submodel-archiver-demo-'))).toEqual([]);
  });

  it('explains bad start-up settings: unknown flags, a bad PORT, a port in use, a store that is down', async () => {
    const down = start(['--no-demo'], {
      PORT: '0',
      ARCHIVER_DATA_DIR: join(dir, 'store-down'),
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${await closedPort()}`,
    });
    expect(await down.closed).toBe(1);
    expect(down.output()).toMatch(
      /cannot reach DynamoDB at http:\/\/127\.0\.0\.1:\d+ \(AWS_ENDPOINT_URL_DYNAMODB\): is it running\?/,
    );
    const bogus = start(['--bogus'], {});
    expect(await bogus.closed).toBe(1);
    expect(bogus.output()).toContain('npm start: unknown option --bogus\n  see: npm start -- --help');
    const badPort = start(['--no-demo'], { PORT: 'abc' });
    expect(await badPort.closed).toBe(1);
    expect(badPort.output()).toContain('PORT must be a whole number from 0 to 65535');
    const busy = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const address = busy.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const inUse = start(['--no-demo'], { PORT: String(port), ARCHIVER_DATA_DIR: join(dir, 'in-use') });
      expect(await inUse.closed).toBe(1);
      expect(inUse.output()).toContain(`port ${port} is already in use`);
      expect(inUse.output()).toContain(`PORT=${port + 1} npm start`);
    } finally {
      await new Promise<void>((ok) => busy.close(() => ok()));
    }
  });
});
