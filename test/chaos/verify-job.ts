// The checks of one job: its state, audit trail, job events, and its archive against what the upstream produced.
import type { AuditEvent, Job } from '../../functions/core/job.ts';
import { isTerminal } from '../../functions/core/job-state.ts';
import type { Emulator, JobSnapshot } from '../../local/emulator/index.ts';
import { folderOf, objectKeysUnder, parseResult, readObject } from './archive-reader.ts';
import type { RequestRecord } from './client.ts';
import { bump, CERTAIN_REFUSALS, type Outcome, QUEUE_REFUSAL } from './outcome.ts';
import type { CleanView, SweepWindow } from './system.ts';
import type { UpstreamLedger } from './upstream-ledger.ts';
import { waitsOutItsLife } from './waiting-out.ts';
import { isQueued } from './workload.ts';

/** What the checks of one job read, and where they count and report. */
export interface JobChecks {
  view: CleanView;
  dataDir: string;
  emulator: Emulator;
  ledger: UpstreamLedger;
  records: ReadonlyMap<string, RequestRecord>;
  crashedIds: ReadonlySet<string>;
  sweeps: readonly SweepWindow[];
  /** Final snapshots of the run's upstream jobs, by upstream id. */
  snapshots: ReadonlyMap<string, JobSnapshot | undefined>;
  /** Upstream job ids by the archiver job their callback URL names. */
  upstreamByCallback: ReadonlyMap<string, string[]>;
  /** Job events published, by `type#jobId`. */
  publishedCount: ReadonlyMap<string, number>;
  outcome: Outcome;
  fail: (message: string) => void;
}

/** The audit trail in one line: `created>input.archived>submitted>webhook.received:webhook>archived:webhook`. */
export const trail = (events: readonly AuditEvent[]) =>
  events.map((e) => (e.source && e.source !== 'api' ? `${e.type}:${e.source}` : e.type)).join('>');

/**
 * When each thing happened, in seconds from the job's creation: its events (with their codes) and its upstream
 * job's start, finish and removal. Whether the retention ran out inside a fault, or the sweeper let it pass.
 */
function expiryTimeline(
  job: Job,
  events: readonly AuditEvent[],
  upstreamIds: string[],
  ctx: JobChecks,
): string {
  const origin = Date.parse(job.createdAt);
  const at = (ms: number | undefined) => (ms === undefined ? '?' : `+${((ms - origin) / 1000).toFixed(2)}s`);
  const own = events.map((e) => {
    const code = e.detail?.code ?? e.detail?.upstreamStatus;
    return `${e.type}${code ? `(${String(code)})` : ''}@${at(Date.parse(e.at))}`;
  });
  const upstream = upstreamIds.map((u) => {
    const snap = ctx.snapshots.get(u);
    return `${u} started@${at(snap?.startedAt)} finished@${at(snap?.finishedAt)} kept until@${at(snap?.expiresAt)}`;
  });
  const until = Math.max(origin, ...events.map((e) => Date.parse(e.at)));
  const sweeps = ctx.sweeps
    .filter((w) => w.endedAt >= origin && w.startedAt <= until)
    .map(
      (w) =>
        `${at(w.startedAt)}..${at(w.endedAt)} ${w.failed ? `failed: ${w.failed}` : w.leaseHeld ? `${w.passes} passes` : 'lease held elsewhere'}`,
    );
  return `created ${job.createdAt}: ${[...own, ...upstream].join(', ')}; sweeper invocations ${sweeps.join(', ') || 'none'}`;
}

/** A settled job, its audit trail and its job events, as its role in the run says they must be. */
export async function checkJob(ctx: JobChecks, job: Job, events: AuditEvent[]): Promise<void> {
  const { outcome, fail, upstreamByCallback, publishedCount } = ctx;
  const id = `${job.jobId} [${trail(events)}]`;
  const record = ctx.records.get(job.metadata?.chaosKey ?? '');
  const role = record?.spec.role;
  const count = (type: AuditEvent['type']) => events.filter((e) => e.type === type).length;
  bump(outcome.byState, job.state);
  // Through the submit queue: whatever its request said, the record knows it was accepted QUEUED.
  const queued = job.queuedAt !== undefined;
  if (queued) {
    outcome.queue.jobs++;
    if (job.state === 'ARCHIVED') outcome.queue.archived++;
    if (job.state === 'REJECTED') outcome.queue.rejected++;
    if (record && !isQueued(record.spec)) fail(`${id} (${role}): QUEUED although its request was not queued`);
  }
  for (const e of events) {
    if (e.type === 'webhook.duplicate') outcome.duplicates.webhookDuplicate++;
    if (e.type === 'capture.duplicate') outcome.duplicates.captureDuplicate++;
    if (e.type === 'capture.concurrent') outcome.duplicates.captureConcurrent++;
    if (e.type === 'submit.deferred') outcome.queue.deferred++;
    if (e.type === 'submit.resent') outcome.queue.resent++;
  }
  if (!record) fail(`${id}: a job no client asked for (metadata ${JSON.stringify(job.metadata)})`);
  if (waitsOutItsLife(job, record?.spec.key ?? '', ctx.ledger, ctx.emulator)) {
    outcome.waitingOutLife++;
    if (count('submit.ambiguous') !== 1) fail(`${id}: ambiguous submit without its submit.ambiguous event`);
    return;
  }
  if (!isTerminal(job.state)) {
    outcome.nonFinal++;
    // Whether a GPU job ran for it tells a lost /run answer from a /run that never started anything.
    const upstream = ctx.ledger
      .idsFor(record?.spec.key ?? '')
      .map((u) => `${u} ${ctx.snapshots.get(u)?.status ?? 'forgotten'}`);
    const facts = JSON.stringify({
      runAttemptedAt: job.runAttemptedAt,
      submitAmbiguous: job.submitAmbiguous,
      dueAt: job.dueAt,
      leaseUntil: job.leaseUntil,
      answers: record?.answers,
      upstream,
    });
    fail(`${id} (${role}): left ${job.state} ${facts}`);
    return;
  }
  const first = events[0]?.type;
  if (first !== (job.origin === 'tracked' ? 'tracked' : 'created'))
    fail(`${id}: audit trail starts with ${first ?? 'nothing'}`);
  if (job.submitAmbiguous && count('submit.ambiguous') !== 1)
    fail(`${id}: ambiguous submit without its submit.ambiguous event`);
  const mine = upstreamByCallback.get(job.jobId) ?? [];

  if (job.state === 'ARCHIVED') {
    bump(outcome.archivedBySource, job.captureSource ?? 'unknown');
    bump(outcome.upstreamStatuses, job.upstreamStatus ?? 'unknown');
    if (count('archived') !== 1) fail(`${id}: ${count('archived')} archived events`);
    const archivedEvent = events.find((e) => e.type === 'archived');
    // An archive whose capture died before announcing it is announced by the sweeper (detail.recovered).
    if (archivedEvent && archivedEvent.source !== job.captureSource && !archivedEvent.detail?.recovered)
      fail(`${id}: archived event from ${archivedEvent.source}, record says ${job.captureSource}`);
    const announced = publishedCount.get(`Job Archived#${job.jobId}`) ?? 0;
    if (announced > 1) outcome.reannounced++;
    if (announced === 0 || (announced > 1 && !ctx.crashedIds.has(job.jobId)))
      fail(`${id}: ${announced} Job Archived events published`);
    await checkArchive(ctx, job, record);
    return;
  }
  if (mine.length > 0 && role !== 'held') {
    fail(`${id}: ${job.state} although upstream job ${mine.join(', ')} ran for it`);
  }
  if (job.state === 'EXPIRED') {
    outcome.expired++;
    if (role !== 'held')
      fail(
        `${id} (${role}): EXPIRED without having been held past retention; ${expiryTimeline(job, events, mine, ctx)}`,
      );
    if (count('expired') !== 1) fail(`${id}: ${count('expired')} expired events`);
    if ((publishedCount.get(`Job Expired#${job.jobId}`) ?? 0) < 1)
      fail(`${id}: no Job Expired event published`);
    return;
  }
  // REJECTED
  const reason = job.reason ?? '';
  if (count('submit.rejected') + count('rejected') !== 1) fail(`${id}: rejected without one rejection event`);
  if (queued && reason.startsWith('UPSTREAM_RATE_LIMITED')) {
    // Back-pressure (docs/scale.md): a 429 on /run puts a queued job back QUEUED, it never refuses it.
    outcome.rejected.other++;
    fail(`${id} (${role}): queued, REJECTED on a 429 instead of going back QUEUED: ${reason}`);
  } else if (CERTAIN_REFUSALS.test(reason)) outcome.rejected.certainRefusal++;
  else if (QUEUE_REFUSAL.test(reason)) {
    // The enqueue's send failed: its request was answered 503, and its client sent it again as a new job.
    outcome.rejected.queueRefused++;
    if (!queued) fail(`${id} (${role}): QUEUE_UNAVAILABLE for a job that was never queued`);
  } else if (reason.startsWith('SUBMIT_UNCONFIRMED')) {
    outcome.rejected.unconfirmed++;
    if (role === 'queued-crash') outcome.queue.claimedUnsent++;
    else if (role !== 'ambiguous-unsent') fail(`${id} (${role}): settled SUBMIT_UNCONFIRMED`);
  } else if (reason.startsWith('SUBMIT_NOT_SENT')) {
    outcome.rejected.notSent++;
    // Its client was answered 202 QUEUED and is never told to send it again; its message is redelivered for
    // exactly this (a submitter that stopped before its run claim, core/submitter.ts needsSend).
    if (queued) fail(`${id} (${role}): accepted QUEUED, then REJECTED as never sent: ${reason}`);
  } else {
    outcome.rejected.other++;
    fail(`${id} (${role}): REJECTED for an unexpected reason: ${reason}`);
  }
}

/** result.json, the artifacts and input.json of an ARCHIVED job against what the upstream produced. */
async function checkArchive(ctx: JobChecks, job: Job, record: RequestRecord | undefined): Promise<void> {
  const { outcome, fail, ledger, snapshots, view, emulator } = ctx;
  const id = job.jobId;
  const upstreamId = job.upstreamId ?? '';
  const key = ledger.keyOf.get(upstreamId);
  if (!key || key !== record?.spec.key) {
    outcome.forgedArchived++;
    fail(`${id}: archived upstream job ${upstreamId}, which belongs to ${key ?? 'no request of this run'}`);
    return;
  }
  const snap = snapshots.get(upstreamId);
  const served = snap?.statusJson;
  if (!snap || !served) {
    fail(`${id}: the emulator no longer holds ${upstreamId} to compare with`);
    return;
  }
  if (!job.resultKey) {
    fail(`${id}: archived without a result key`);
    return;
  }
  const bytes = await readObject(view, job.resultKey);
  if (!bytes) {
    outcome.lost++;
    fail(`${id}: result.json missing at ${job.resultKey}`);
    return;
  }
  outcome.resultBytesChecked += bytes.length;
  const result = parseResult(bytes);
  if (job.resultBytes !== bytes.length)
    fail(`${id}: resultBytes ${job.resultBytes} ≠ ${bytes.length} stored`);
  if (result.archive.jobId !== id || result.archive.upstreamId !== upstreamId)
    fail(
      `${id}: result.json envelope names ${String(result.archive.jobId)}/${String(result.archive.upstreamId)}`,
    );
  const output = result.status.output === undefined ? undefined : JSON.stringify(result.status.output);
  if (output !== emulator.jobs.outputJson(upstreamId)) {
    outcome.forgedArchived++;
    fail(`${id}: archived output differs from what the emulator produced for ${upstreamId}`);
  }
  if (result.status.status !== snap.status || result.status.id !== upstreamId)
    fail(
      `${id}: archived ${String(result.status.status)} of ${String(result.status.id)}, upstream ${snap.status}`,
    );
  if (JSON.stringify(result.status.error) !== JSON.stringify(snap.error))
    fail(`${id}: archived error differs from the upstream's`);
  if (result.statusText === served) outcome.exactStatusBytes++;
  else if (job.captureSource !== 'webhook')
    fail(`${id}: status captured by ${job.captureSource} is not byte-identical to what /status served`);
  const wanted = [job.inputKey, job.resultKey, ...(job.artifacts ?? []).map((a) => a.key)]
    .filter((k): k is string => typeof k === 'string')
    .sort();
  const stored = await objectKeysUnder(ctx.dataDir, view.bucket, folderOf(job.resultKey));
  if (JSON.stringify(stored) !== JSON.stringify(wanted))
    fail(`${id}: objects ${stored.join(', ')} where ${wanted.join(', ')} were expected`);
  if (job.inputKey && (record.spec.via === 'submit' || isQueued(record.spec))) {
    const stored = await readObject(view, job.inputKey);
    if (stored?.toString('utf8') !== JSON.stringify(record.spec.input)) fail(`${id}: input.json differs`);
  }
}
