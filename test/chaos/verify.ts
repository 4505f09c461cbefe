// After the chaos: every promise checked against the stores, the emulator's own record and the clients' view.
import { LocalEventPublisher } from '../../functions/adapters/event-publishers.ts';
import type { AuditEvent, Job } from '../../functions/core/job.ts';
import { isTerminal } from '../../functions/core/job-state.ts';
import type { BuiltRuntime } from '../../functions/runtime.ts';
import type { Emulator, JobSnapshot } from '../../local/emulator/index.ts';
import type { RequestRecord } from './client.ts';
import type { Forgery } from './forgery.ts';
import { CERTAIN_REFUSALS, emptyOutcome, type Outcome, QUEUE_REFUSAL } from './outcome.ts';
import type { CleanView, SweepWindow } from './system.ts';
import { callbackJobId, type UpstreamLedger } from './upstream-ledger.ts';
import { checkJob, type JobChecks, trail } from './verify-job.ts';
import { waitsOutItsLife } from './waiting-out.ts';
import { isQueued } from './workload.ts';

export type { Outcome } from './outcome.ts';

const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'];

export interface VerifyInput {
  view: CleanView;
  dataDir: string;
  emulator: Emulator;
  ledger: UpstreamLedger;
  records: ReadonlyMap<string, RequestRecord>;
  runtimes: readonly BuiltRuntime[];
  forgeries: readonly Forgery[];
  /** Jobs a killed process was settling: their job event may be sent twice (at least once, by design). */
  crashedIds: ReadonlySet<string>;
  /** When each sweeper invocation ran. */
  sweeps: readonly SweepWindow[];
  /** Creation-time bounds of the run's jobs (ISO). */
  from: string;
  to: string;
}

export interface Verification {
  outcome: Outcome;
  violations: string[];
}

interface Checked {
  job: Job;
  events: AuditEvent[];
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (item !== undefined) out[i] = await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function listAll(view: CleanView, from: string, to: string): Promise<Job[]> {
  const jobs: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await view.jobs.list({ from, to, limit: 100, ...(cursor && { cursor }) });
    jobs.push(...page.jobs);
    cursor = page.cursor;
  } while (cursor);
  return jobs;
}

export async function verifyRun(input: VerifyInput): Promise<Verification> {
  const { view, emulator, ledger, records } = input;
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);
  const outcome = emptyOutcome(ledger.keyOf.size);

  const published = input.runtimes.flatMap((r) =>
    r.events instanceof LocalEventPublisher ? r.events.published : [],
  );
  const publishedCount = new Map<string, number>();
  for (const event of published) {
    const key = `${event.type}#${event.detail.jobId}`;
    publishedCount.set(key, (publishedCount.get(key) ?? 0) + 1);
  }
  const metricTotal = (name: Parameters<BuiltRuntime['metrics']['count']>[0]) =>
    input.runtimes.reduce((sum, r) => sum + (r.metrics.totals.get(name) ?? 0), 0);
  outcome.duplicates.metric = metricTotal('DuplicateCaptures');
  outcome.ambiguousSubmits = metricTotal('AmbiguousSubmits');

  // Upstream jobs by the archiver job their callback names, and their final snapshots.
  const snapshots = new Map<string, JobSnapshot | undefined>();
  const upstreamByCallback = new Map<string, string[]>();
  for (const id of ledger.keyOf.keys()) {
    const snap = emulator.jobs.get(id);
    snapshots.set(id, snap);
    const owner = callbackJobId(snap);
    if (owner) upstreamByCallback.set(owner, [...(upstreamByCallback.get(owner) ?? []), id]);
  }

  const jobs = await listAll(view, input.from, input.to);
  outcome.jobsInTable = jobs.length;
  const byId = new Map(jobs.map((job) => [job.jobId, job]));
  for (const record of records.values()) {
    for (const id of record.jobIds) {
      if (!byId.has(id))
        fail(`${record.spec.key}: the API answered with job ${id}, which is not in the table`);
    }
  }

  const checks: JobChecks = {
    view,
    dataDir: input.dataDir,
    emulator,
    ledger,
    records,
    crashedIds: input.crashedIds,
    sweeps: input.sweeps,
    snapshots,
    upstreamByCallback,
    publishedCount,
    outcome,
    fail,
  };
  const checked = await mapLimit(jobs, 16, async (listed): Promise<Checked> => {
    const job = (await view.jobs.get(listed.jobId)) ?? listed;
    const events = await view.jobs.listEvents(job.jobId);
    await checkJob(checks, job, events);
    return { job, events };
  });

  // Every GPU job of the run that finished upstream is archived, once, under the job that asked for it.
  const archivedByUpstream = new Map<string, string[]>();
  for (const { job } of checked) {
    if (job.state === 'ARCHIVED' && job.upstreamId)
      archivedByUpstream.set(job.upstreamId, [...(archivedByUpstream.get(job.upstreamId) ?? []), job.jobId]);
  }
  for (const [upstreamId, key] of ledger.keyOf) {
    const snap = snapshots.get(upstreamId);
    const role = records.get(key)?.spec.role;
    const archived = archivedByUpstream.get(upstreamId) ?? [];
    if (archived.length > 1) {
      outcome.duplicateArchives++;
      fail(`${upstreamId}: archived by ${archived.length} jobs (${archived.join(', ')})`);
    }
    if (!snap || !FINAL.includes(snap.status)) {
      fail(`${upstreamId} (${key}): never finished upstream (${snap?.status ?? 'forgotten'})`);
      continue;
    }
    if (role === 'held') {
      outcome.expectedExpired++;
      if (archived.length > 0) fail(`${upstreamId}: held past retention, yet archived`);
      continue;
    }
    if (archived.length === 0) {
      const owner = callbackJobId(snap) ?? records.get(key)?.jobIds.at(-1);
      const state = owner ? byId.get(owner)?.state : undefined;
      if (state !== undefined && !isTerminal(state)) continue; // counted as non-final above
      outcome.lost++;
      fail(`${upstreamId} (${key}): finished upstream (${snap.status}) and was never archived`);
    }
  }

  // Each logical request: one job, one GPU job at most, and the end it was meant to have.
  const trails = new Map(checked.map(({ job, events }) => [job.jobId, trail(events)]));
  const named = (jobId: string) => `${jobId} [${trails.get(jobId) ?? 'no audit trail'}]`;
  for (const record of records.values()) {
    const { key, expect } = record.spec;
    if (isQueued(record.spec)) outcome.queue.requests++;
    if (record.failure) fail(`${key}: client stopped: ${record.failure}`);
    for (const split of record.splitAnswers) fail(`${key}: concurrent requests answered with jobs ${split}`);
    const gpu = ledger.idsFor(key);
    const last = record.jobIds.at(-1);
    if (gpu.length > 1) {
      outcome.twoGpuJobsForOneRequest++;
      fail(
        `${key}: ${gpu.length} upstream jobs for one request (${gpu.join(', ')}), job ${named(last ?? '?')}`,
      );
    }
    if (expect === 'unconfirmed' && gpu.length !== 0) fail(`${key}: the failed /run started a job after all`);
    const job = last ? byId.get(last) : undefined;
    // A killed submitter's job is archived if its /run went out; if only its run claim was taken, nobody can
    // tell it was never sent: it is settled SUBMIT_UNCONFIRMED when its job life is over.
    const crashed = expect === 'crash';
    const want =
      expect === 'archived' || (crashed && gpu.length > 0)
        ? 'ARCHIVED'
        : expect === 'expired'
          ? 'EXPIRED'
          : 'REJECTED';
    if (!job || !last) fail(`${key}: no job`);
    else if (waitsOutItsLife(job, key, ledger, input.emulator)) {
      // Counted by checkJob: it ends SUBMIT_UNCONFIRMED when its job life is over, hours after the run.
    } else if (job.state !== want)
      fail(`${key}: ${named(last)} ended ${job.state} (${job.reason ?? ''}), expected ${want}`);
    else if (crashed && want === 'REJECTED' && !(job.reason ?? '').startsWith('SUBMIT_UNCONFIRMED'))
      fail(`${key}: ${named(last)} REJECTED (${job.reason ?? ''}), expected SUBMIT_UNCONFIRMED`);
    for (const earlier of record.jobIds.slice(0, -1)) {
      const old = byId.get(earlier);
      const reason = old?.reason ?? '';
      if (old && !(old.state === 'REJECTED' && (CERTAIN_REFUSALS.test(reason) || QUEUE_REFUSAL.test(reason))))
        fail(`${key}: superseded job ${named(earlier)} is ${old.state} (${old.reason ?? ''})`);
    }
  }

  for (const forgery of input.forgeries) {
    // 0: posted while the archiver was down (refused), nothing reached it.
    if (forgery.kind !== 'foreign-body' && forgery.status !== 401 && forgery.status !== 0)
      fail(`forged webhook (${forgery.kind}) for ${forgery.targetJobId} answered ${forgery.status}`);
  }
  return { outcome, violations };
}
