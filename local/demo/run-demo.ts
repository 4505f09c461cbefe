// Runs the demo workload through the HTTP API, as a user would, printing live progress and a summary.
import { DEMO_JOBS, type DemoJob } from './workload.ts';

interface JobState {
  demo: DemoJob;
  jobId?: string;
  state?: string;
  upstreamStatus?: string;
  captureSource?: string;
  bytes: number;
  resultKey?: string;
  artifacts: number;
  duplicates: number;
  error?: string;
}

export interface DemoResult {
  jobs: JobState[];
  allArchived: boolean;
  seconds: number;
}

const TERMINAL = new Set(['ARCHIVED', 'EXPIRED', 'REJECTED']);
const DEADLINE_MS = 90_000;

type Json = Record<string, unknown>;

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<Json> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(token && { authorization: `Bearer ${token}` }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as Json;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json.error ?? json)}`);
  return json;
}

const kb = (n: number) =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`;
const pad = (s: string, n: number) => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));

/** Submits every demo job, follows each to a terminal state, and prints what happened. */
export async function runDemo(
  base: string,
  options: { token?: string; print?: (line: string) => void } = {},
): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  print(`\nDemo: ${DEMO_JOBS.length} jobs, each showing one thing that happens upstream.\n`);

  const jobs: JobState[] = DEMO_JOBS.map((demo) => ({ demo, bytes: 0, artifacts: 0, duplicates: 0 }));
  // Submissions run while progress is polled: a sync job holds its request until it finishes.
  const submitted = Promise.all(
    jobs.map(async (job) => {
      const demo = job.demo;
      try {
        const answer = (await call(base, 'POST', '/jobs', demo.request, options.token)).job as Json;
        job.jobId = String(answer.jobId);
        print(`${elapsed()}  ${pad(demo.name, 16)} submitted  ${job.jobId}  (${demo.shows})`);
        if (demo.cancelAfterMs) {
          setTimeout(() => {
            call(base, 'POST', `/jobs/${job.jobId}/cancel`, undefined, options.token)
              .then(() => print(`${elapsed()}  ${pad(demo.name, 16)} cancel requested`))
              .catch((err: Error) =>
                print(`${elapsed()}  ${pad(demo.name, 16)} cancel failed: ${err.message}`),
              );
          }, demo.cancelAfterMs);
        }
      } catch (err) {
        job.error = (err as Error).message;
        print(`${elapsed()}  ${pad(demo.name, 16)} submit failed: ${job.error}`);
      }
    }),
  );
  let allSubmitted = false;
  void submitted.then(() => {
    allSubmitted = true;
  });

  while (Date.now() - started < DEADLINE_MS) {
    const open = jobs.filter((j) => j.jobId && !TERMINAL.has(j.state ?? ''));
    if (open.length === 0 && allSubmitted) break;
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all(
      open.map(async (job) => {
        const view = await call(base, 'GET', `/jobs/${job.jobId}`, undefined, options.token);
        const record = view.job as Json;
        const state = String(record.state);
        const upstream = String(record.upstreamStatus ?? '');
        if (state !== job.state || upstream !== job.upstreamStatus) {
          job.state = state;
          job.upstreamStatus = upstream;
          const how = state === 'ARCHIVED' ? `  captured by ${record.captureSource}` : '';
          print(`${elapsed()}  ${pad(job.demo.name, 16)} ${pad(state, 10)} ${pad(upstream, 12)}${how}`);
        }
        if (TERMINAL.has(state)) {
          job.captureSource = record.captureSource as string | undefined;
          job.resultKey = record.resultKey as string | undefined;
          const artifacts = (record.artifacts as Array<{ bytes: number }> | undefined) ?? [];
          job.artifacts = artifacts.length;
          job.bytes = Number(record.resultBytes ?? 0) + artifacts.reduce((n, a) => n + a.bytes, 0);
          job.duplicates = ((view.events as Array<{ type: string }>) ?? []).filter((e) =>
            ['webhook.duplicate', 'capture.duplicate', 'capture.concurrent'].includes(e.type),
          ).length;
        }
      }),
    );
  }
  await submitted;
  // Duplicates may still arrive after a job is archived (the emulator retries, the sweeper re-looks).
  await new Promise((r) => setTimeout(r, 1500));
  for (const job of jobs.filter((j) => j.jobId)) {
    const view = await call(base, 'GET', `/jobs/${job.jobId}`, undefined, options.token);
    job.duplicates = ((view.events as Array<{ type: string }>) ?? []).filter((e) =>
      ['webhook.duplicate', 'capture.duplicate', 'capture.concurrent'].includes(e.type),
    ).length;
  }

  const seconds = (Date.now() - started) / 1000;
  printSummary(jobs, print, seconds);
  return { jobs, allArchived: jobs.every((j) => j.state === 'ARCHIVED'), seconds };
}

function printSummary(jobs: JobState[], print: (line: string) => void, seconds: number) {
  const header = `${pad('job', 16)} ${pad('upstream', 10)} ${pad('captured by', 11)} ${pad('archived', 9)} ${pad('dups', 4)} result`;
  print(`\n${header}\n${'─'.repeat(header.length + 40)}`);
  for (const j of jobs) {
    const status = j.state === 'ARCHIVED' ? (j.upstreamStatus ?? '') : (j.state ?? 'NOT SUBMITTED');
    const bytes = j.bytes ? `${kb(j.bytes)}${j.artifacts ? ` +${j.artifacts}img` : ''}` : '-';
    print(
      `${pad(j.demo.name, 16)} ${pad(status, 10)} ${pad(j.captureSource ?? '-', 11)} ${pad(bytes, 9)} ${pad(String(j.duplicates), 4)} ${j.resultKey ?? j.error ?? ''}`,
    );
  }
  const archived = jobs.filter((j) => j.state === 'ARCHIVED').length;
  print(
    `\n${archived} of ${jobs.length} jobs archived in ${seconds.toFixed(1)} s; ${jobs.reduce((n, j) => n + j.duplicates, 0)} duplicate deliveries absorbed.`,
  );
}
