// The figures of a chaos run, as the test and `npm run chaos` print them.
import type { ChaosReport } from './engine.ts';
import { totalStorageFaults } from './storage-faults.ts';

const n = (value: number) => value.toLocaleString('en-US');
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');

function settleEnding(r: ChaosReport): string {
  if (r.settle.ending === 'final') return `every job final and announced after ${s(r.phaseMs.settle)}`;
  if (r.settle.ending === 'quiet')
    return `STUCK: quiescent with ${n(r.settle.open)} jobs open after ${s(r.phaseMs.settle)} (a bug, not slowness)`;
  return `SLOW: the cap came with ${n(r.settle.open)} jobs open and still moving after ${s(r.phaseMs.settle)}`;
}

export function formatReport(r: ChaosReport): string {
  const w = r.emulator.webhooks;
  const o = r.outcome;
  const d = r.storage.dynamodb;
  const s3 = r.storage.s3;
  const kill = r.scenario.killedPass;
  const crash = r.scenario.killedSubmitter;
  const qf = r.queue.faults;
  const q = o.queue;
  const runBursts = r.scenario.runBursts;
  const storageLine = (name: string, c: typeof d) =>
    `${name} ${n(totalStorageFaults(c))} of ${n(c.attempts)} attempts (throttling ${n(c.throttle)}, 5xx ${n(c.serverError)}, ` +
    `applied-then-5xx ${n(c.appliedThenError)}, brownout ${n(c.brownout)}, outlasting retries ${n(c.outlastsAttempts)}); ` +
    `escaped the SDK's retries ${n(c.escaped)}`;
  const forgedSent = Object.values(r.forged.sent).reduce((a, b) => a + b, 0);
  const duplicatesAbsorbed =
    o.duplicates.webhookDuplicate + o.duplicates.captureDuplicate + o.duplicates.captureConcurrent;
  const lines = [
    `chaos run: seed ${r.seed}, ${n(r.jobs)} jobs (${list(r.requests.byRole)})`,
    `wall time ${s(r.wallMs)} (start ${s(r.phaseMs.start)}, submit ${s(r.phaseMs.submit)}, settle ${s(r.phaseMs.settle)}, verify ${s(r.phaseMs.verify)})` +
      (r.cpuHogs > 0 ? `, ${r.cpuHogs} busy processes competing for the cores` : '') +
      `; event loop held up ${s(r.eventLoopDelayMaxMs)} at worst`,
    `settled         ${settleEnding(r)}; while settling at most ${n(r.settle.maxDue)} jobs due, the oldest ${s(r.settle.maxOverdueMs)} overdue`,
    '',
    'faults injected',
    `  webhooks        dropped ${n(w.dropped)}, duplicated ${n(w.duplicated)}, delayed ${n(w.delayed)}, empty body ${n(w.emptyBody)}, ` +
      `null body ${n(w.nullBody)}, too large ${n(w.tooLarge)}, timed out ${n(w.timeouts)}, retried ${n(w.retried)}, given up ${n(w.failed)}`,
    `  upstream API    5xx ${n(r.emulator.injectedErrors)} (incl. lost /run answers), ` +
      `429 to the archiver ${n(r.emulator.tooManyRequests - r.scenario.neighbour429)} ` +
      `(during bursts: ${r.scenario.bursts.map(n).join(', ') || 'none'}), slowed ${n(r.emulator.delayedRequests)} requests, ` +
      `unreachable ${s(r.scenario.outageMs)}`,
    `  storage         ${storageLine('DynamoDB', d)}`,
    `                  ${storageLine('S3', s3)}`,
    `                  ${storageLine('SQS', r.storage.sqs)}`,
    `  queue           redeliveries injected ${n(r.queue.injected)} (acks lost ${n(qf.lostAcks)} holding ${n(qf.lostAckMessages)} messages, ` +
      `visibility cut ${n(qf.visibilityCut)}, handled but reported failed ${n(qf.reportedFailed)}); ` +
      `${n(qf.messages)} deliveries in ${n(qf.batches)} batches, ${n(qf.redelivered)} of them redeliveries; ` +
      `/run bursts ${runBursts.map((b) => `${n(b.queueFull)} queue-full 429s in ${s(b.heldMs)}, the submitter's first after ${b.metMs === undefined ? 'never' : s(b.metMs)}`).join('; ') || 'none'}; ` +
      `submitter killed mid-batch: ${crash ? `${crash.batch} messages, ${crash.runsCalled} /run called, killed ${crash.killedAfterRun ? `as /run ${crash.runsAnswered} answered` : 'after the batch'}` : 'no'}; ` +
      `queued with the pollers paused and lost with the queue at the restart ${n(r.scenario.lostAtRestart)}; ` +
      `poller rounds failed ${n(r.queue.pollerErrors)}`,
    `  process         sweeper killed mid-pass: ${kill ? `${kill.claimed} captures claimed, ${kill.archived} archived, ${kill.cut} cut mid-way` : 'no'}; ` +
      `archiver restarted ${r.restarts}× (down ${s(r.scenario.restartDowntimeMs)}); handler failures answered 5xx ${n(r.handlerErrors)}`,
    `  forged webhooks ${n(forgedSent)} (${list(r.forged.sent)})`,
    `  sweeper         ${n(r.sweeper.invocations)} invocations, ${n(r.sweeper.passes)} passes, longest ${s(r.sweeper.longestPassMs)}, ` +
      `oldest due job ${s(r.sweeper.oldestDueAgeMs)} late (met by an invocation at +${s(r.sweeper.oldestDueSeenAtMs)})`,
    '',
    'outcome',
    `  jobs in table   ${n(o.jobsInTable)} (${list(o.byState)}); upstream GPU jobs ${n(o.upstreamJobs)}`,
    `  archived        ${n(o.byState.ARCHIVED ?? 0)} (by ${list(o.archivedBySource)}; ${list(o.upstreamStatuses)}); ` +
      `${n(o.exactStatusBytes)} byte-identical to /status, ${(o.resultBytesChecked / 1e6).toFixed(1)} MB compared`,
    `  duplicates      absorbed ${n(duplicatesAbsorbed)} (webhook.duplicate ${n(o.duplicates.webhookDuplicate)}, ` +
      `capture.duplicate ${n(o.duplicates.captureDuplicate)}, capture.concurrent ${n(o.duplicates.captureConcurrent)}; metric ${n(o.duplicates.metric)}); ` +
      `idempotent replays ${n(r.requests.replays)}`,
    `  forged          rejected ${n(r.forged.rejected)} (401), bodies ignored ${n(r.forged.bodiesIgnored)}, ` +
      `refused while down ${n(r.forged.unanswered)}, archived ${n(o.forgedArchived)}`,
    `  announced       Job Archived sent again for captures cut by the kill ${n(o.reannounced)} (at least once)`,
    `  expired         ${n(o.expired)} (expected ${n(o.expectedExpired)})`,
    `  ambiguous       ${n(o.ambiguousSubmits)} submits; reconciled ${n(r.scenario.reconciled)}; settled unconfirmed ${n(o.rejected.unconfirmed)}; ` +
      `cut before reaching the upstream, waiting out their job life ${n(o.waitingOutLife)}`,
    `  rejected        certain refusals ${n(o.rejected.certainRefusal)}, unconfirmed ${n(o.rejected.unconfirmed)}, ` +
      `never sent ${n(o.rejected.notSent)}, not taken by the queue ${n(o.rejected.queueRefused)}, other ${n(o.rejected.other)}`,
    `  queue           queued jobs ${n(q.jobs)} for ${n(q.requests)} requests (POST /jobs ${n(r.requests.byVia.queue ?? 0)}, batch lines ${n(r.requests.byVia.batch ?? 0)}): archived ${n(q.archived)}, ` +
      `rejected ${n(q.rejected)} (of the killed batch, claimed and never sent: ${n(q.claimedUnsent)}); ` +
      `429s met by the submitter ${n(q.deferred)} (each put back QUEUED); re-sent by recovery ${n(q.resent)}; ` +
      `submitter kills ${crash ? 1 : 0}; left dead-lettered ${n(r.queue.deadLetters)}`,
    `  lost ${n(o.lost)}, forged archived ${n(o.forgedArchived)}, double archives ${n(o.duplicateArchives)}, ` +
      `two GPU jobs for one request ${n(o.twoGpuJobsForOneRequest)}, left unfinished ${n(o.nonFinal)}`,
    `  violations      ${r.violations.length === 0 ? 'none' : n(r.violations.length)}`,
    ...r.violations.slice(0, 40).map((v) => `    - ${v}`),
    ...(r.violations.length > 40 ? [`    … ${n(r.violations.length - 40)} more`] : []),
  ];
  return lines.join('\n');
}
