// Waiting for a chaos run to settle: every job its clients know of final and announced, or the system quiet.
import type { Job } from '../../functions/core/job.ts';
import { isTerminal } from '../../functions/core/job-state.ts';
import type { ChaosClient } from './client.ts';
import { SENT_AGAIN_AFTER } from './outcome.ts';
import { sleep } from './rng.ts';
import type { ChaosSystem } from './system.ts';
import { DEFAULT_TTL_MS, LIFE_WITHIN_RUN_MS } from './waiting-out.ts';
import type { JobSpec } from './workload.ts';

const CHECK_CONCURRENCY = 16;

/**
 * No progress for this long, with nothing overdue and no request in flight, means nothing more will happen:
 * longer than the waits the design has on purpose for a watched job (a dead capture's 2-minute lease, the 2
 * minutes a settled job waits to be announced by the sweeper), plus a sweeper pass. Waits that can run longer
 * are scheduled: see `scheduledWait`.
 */
export const QUIET_MS = 150_000;

/**
 * A job not yet sent whose next step the sweeper has scheduled for later: a QUEUED job's message re-sent a
 * margin after its estimated start, doubling with each re-send (60, 120, 240, 480 s in the chaos timings), or a
 * SUBMITTING job's patience when its job life ends inside the run (a claimed, unsent job of the killed
 * submitter). It is waited on until that time, however long without change: a job whose time comes and goes
 * with nothing done is overdue, and that is judged.
 */
const scheduledWait = (job: Job, nowMs: number) =>
  job.dueAt !== undefined &&
  job.dueAt > nowMs &&
  (job.state === 'QUEUED' ||
    (job.state === 'SUBMITTING' &&
      job.upstreamId === undefined &&
      (job.policy?.ttl ?? DEFAULT_TTL_MS) < LIFE_WITHIN_RUN_MS));

/** The sweeper keeps up while its most overdue job is no later than this. */
const KEEPING_UP_MS = 5000;

export interface SettleFigures {
  /** `final`: every job settled; `quiet`: jobs left open though nothing was happening; `cap`: still moving. */
  ending: 'final' | 'quiet' | 'cap';
  open: number;
  /** Ambiguous submits of which the upstream has no trace, waiting out their job life by design (waiting-out.ts). */
  waitingOutLife: number;
  /** The sweeper's worst lag while settling: how late its most overdue job was. */
  maxOverdueMs: number;
  /** Most jobs due at once while settling. */
  maxDue: number;
}

/**
 * Waits until every job the clients know of is final, judged by progress, not by the clock: it ends when
 * all are final, when the system is quiescent (nothing overdue, nothing in flight, no job changed for
 * QUIET_MS) with jobs still open, or at `capMs` while jobs still move (then the run was slow, not broken).
 * A job the upstream certainly refused (REJECTED with a certain refusal), or the submit queue did not take, is
 * submitted again (the same way: queued, or a batch line), as its client would: the key is free again, so that
 * makes a new job. A job `waitsOutItsLife` says will stay open for its whole life (hours) is not waited on; it is
 * asked again on every round, so one whose /run turns up upstream after all is waited on from then.
 */
export async function settle(
  system: ChaosSystem,
  client: ChaosClient,
  capMs: number,
  log: (line: string) => void,
  waitsOutItsLife: (job: Job, key: string) => boolean,
): Promise<SettleFigures> {
  const view = system.clean();
  const final = new Set<string>();
  const started = Date.now();
  const figures: SettleFigures = {
    ending: 'final',
    open: 0,
    waitingOutLife: 0,
    maxOverdueMs: 0,
    maxDue: 0,
  };
  let signature = '';
  let changedAt = Date.now();
  try {
    let lastReport = 0;
    for (;;) {
      const open: string[] = [];
      const states: string[] = [];
      const resubmit: JobSpec[] = [];
      let waiting = 0;
      let scheduled = false;
      const records = [...client.records.values()];
      let i = 0;
      const worker = async () => {
        while (i < records.length) {
          const record = records[i++];
          const jobId = record?.jobIds.at(-1);
          if (!record || !jobId || record.failure || final.has(jobId)) continue;
          const job = await view.jobs.get(jobId);
          if (job && waitsOutItsLife(job, record.spec.key)) {
            waiting++;
            continue;
          }
          // Settled and announced: terminal, and out of the due index.
          if (!job || !isTerminal(job.state) || job.dueAt !== undefined) {
            open.push(jobId);
            if (job && scheduledWait(job, Date.now())) scheduled = true;
            states.push(`${jobId}:${job?.state}:${job?.upstreamStatus}:${job?.leaseUntil}`);
          } else if (
            job.state === 'REJECTED' &&
            record.spec.expect === 'archived' &&
            SENT_AGAIN_AFTER.test(job.reason ?? '')
          )
            resubmit.push(record.spec);
          else final.add(jobId);
        }
      };
      await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker));
      for (const spec of resubmit) await client.resend(spec);
      figures.open = open.length;
      figures.waitingOutLife = waiting;
      if (open.length === 0 && resubmit.length === 0) return figures;

      const due = await system.dueBacklog(view);
      figures.maxDue = Math.max(figures.maxDue, due.count);
      figures.maxOverdueMs = Math.max(figures.maxOverdueMs, due.oldestOverdueMs);
      const now = Date.now();
      const next = states.sort().join('|');
      if (next !== signature || resubmit.length > 0 || system.inFlight > 0 || scheduled) {
        signature = next;
        changedAt = now;
      }
      if (due.oldestOverdueMs <= KEEPING_UP_MS && now - changedAt > QUIET_MS) {
        figures.ending = 'quiet';
        log(`quiescent for ${QUIET_MS / 1000} s with ${open.length} jobs open: they will not settle`);
        return figures;
      }
      if (now - started > capMs) {
        figures.ending = 'cap';
        log(`settle cap of ${capMs / 1000} s reached with ${open.length} jobs open and still moving`);
        return figures;
      }
      if (now - lastReport > 10_000) {
        log(
          `${open.length} jobs not final yet${open.length <= 5 ? ` (${open.join(', ')})` : ''}; ` +
            `${due.count} due, the oldest ${(due.oldestOverdueMs / 1000).toFixed(1)} s overdue` +
            (due.oldest ? ` (${due.oldest})` : ''),
        );
        lastReport = now;
      }
      await sleep(1000);
    }
  } finally {
    view.close();
  }
}
