// The jobs of a chaos run: what each logical request asks for and how it is expected to end.
import type { JobPolicy } from '../../functions/core/job.ts';
import { QUEUED_SHARE, SYNC_LATE_MS } from './options.ts';
import { Dice } from './rng.ts';
import { CHAOS_HANDLER } from './upstream-ledger.ts';

/** The built-in emulator handler doing a job's work. */
export type Delegate =
  | 'echo'
  | 'image-base64'
  | 'image-datauri'
  | 'image-url'
  | 'fail'
  | 'empty'
  | 'stream'
  | 'large';

export type Role =
  | 'workload'
  | 'large'
  | 'cancel'
  | 'timeout'
  | 'sync'
  | 'tracked'
  /** Webhook dropped and upstream record expired before any look: must end EXPIRED. */
  | 'held'
  /** /run's answer lost (502 after the job was created): the webhook archives it. */
  | 'ambiguous'
  /** /run's answer lost and the webhook dropped: archived only by an operator's reconcile. */
  | 'ambiguous-reconcile'
  /** /run failed with 5xx before creating anything: settled REJECTED (SUBMIT_UNCONFIRMED). */
  | 'ambiguous-unsent'
  /** Through the submit queue: `"queue": true` or a line of POST /jobs/batch. */
  | 'queued'
  /** Queued as a 429 burst on /run begins: it meets the 429s and must go back QUEUED, never REJECTED. */
  | 'queued-burst'
  /** Queued while the pollers are paused, just before the archiver stops: the queue forgets its message. */
  | 'queued-lost'
  /** In the batch of a submitter killed mid-batch, right after a /run answered (killed-submitter.ts). */
  | 'queued-crash';

/**
 * `crash`: ARCHIVED when an upstream job ran for it, else REJECTED with SUBMIT_UNCONFIRMED (the killed
 * submitter took its run claim and died before /run; nobody can know it was never sent).
 */
export type Expectation = 'archived' | 'expired' | 'unconfirmed' | 'crash';

/** How a request reaches the archiver. */
export type Via = 'submit' | 'track' | 'queue' | 'batch';

export interface JobSpec {
  /** Idempotency-Key and `input.chaosKey`. */
  key: string;
  role: Role;
  via: Via;
  /** Batch lines: the batch they are sent in (its lines are next to each other in the plan). */
  batch?: string;
  input: Record<string, unknown>;
  policy?: JobPolicy;
  sync?: boolean;
  /**
   * Extra POST /jobs with the same key sent at the same moment (submit, queue), extra tracks (track), or extra
   * copies of the whole batch (batch, the same on each of its lines).
   */
  duplicates: number;
  expect: Expectation;
  /** Sent only once the scenario's steps are over (engine.ts): the late runsync jobs. */
  afterFaults?: boolean;
}

const DELEGATE_WEIGHTS: Readonly<Record<Exclude<Delegate, 'large'>, number>> = {
  echo: 64,
  'image-base64': 8,
  'image-datauri': 3,
  'image-url': 5,
  fail: 8,
  empty: 4,
  stream: 8,
};

export const expectationOf = (role: Role): Expectation =>
  role === 'held'
    ? 'expired'
    : role === 'ambiguous-unsent'
      ? 'unconfirmed'
      : role === 'queued-crash'
        ? 'crash'
        : 'archived';

/** Whether a request goes through the submit queue. */
export const isQueued = (spec: Pick<JobSpec, 'via'>) => spec.via === 'queue' || spec.via === 'batch';

/** An input for the chaos handler; small images so thousands stay cheap. */
export function chaosInput(
  key: string,
  delegate: Delegate,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    handler: CHAOS_HANDLER,
    delegate,
    chaosKey: key,
    prompt: `chaos ${key} ${delegate}`,
    ...(delegate.startsWith('image') && { width: 24, height: 16 }),
    ...(delegate === 'stream' && { chunks: 4 }),
    ...extra,
  };
}

export function specFor(
  key: string,
  role: Role,
  input: Record<string, unknown>,
  extra: Partial<JobSpec> = {},
): JobSpec {
  return { key, role, via: 'submit', input, duplicates: 0, expect: expectationOf(role), ...extra };
}

/** Lines of one POST /jobs/batch of the workload. */
const BATCH_LINES = { min: 2, max: 12 };

/**
 * The seeded plan of `jobs` logical requests: mostly plain submits, some tracked, some queued (`"queue": true`
 * and batches), a few special ones. A batch's lines come one after the other.
 */
export function planWorkload(jobs: number, seed: number): JobSpec[] {
  const dice = new Dice(seed, 'workload');
  const key = (role: string, n: number) => `chaos-s${seed}-${role}-${n}`;
  const specs: JobSpec[] = [];
  const units: JobSpec[][] = [];
  const tracked = Math.max(20, Math.round(jobs * 0.03));
  const synced = Math.max(6, Math.round(jobs * 0.004));
  for (let n = 0; n < 2; n++) {
    const k = key('large', n);
    specs.push(specFor(k, 'large', chaosInput(k, 'large', { bytes: 7_000_000 })));
  }
  for (let n = 0; n < 4; n++) {
    const k = key('cancel', n);
    specs.push(specFor(k, 'cancel', chaosInput(k, 'echo', { durationMs: 5000 })));
  }
  for (let n = 0; n < 4; n++) {
    const k = key('timeout', n);
    specs.push(
      specFor(k, 'timeout', chaosInput(k, 'echo', { durationMs: 8000 }), {
        policy: { executionTimeout: 5000 },
      }),
    );
  }
  for (let n = 0; n < synced; n++) {
    const k = key('sync', n);
    specs.push(specFor(k, 'sync', chaosInput(k, dice.weighted(DELEGATE_WEIGHTS)), { sync: true }));
  }
  for (let n = 0; n < tracked; n++) {
    const k = key('tracked', n);
    const input = chaosInput(k, dice.weighted(DELEGATE_WEIGHTS), { durationMs: dice.int(20, 600) });
    specs.push(specFor(k, 'tracked', input, { via: 'track', duplicates: dice.chance(0.2) ? 1 : 0 }));
  }
  const queued = Math.round(jobs * QUEUED_SHARE);
  for (let n = 0; n < Math.ceil(queued / 2); n++) {
    const k = key('queued', n);
    const duplicates = dice.chance(0.05) ? 1 : 0;
    specs.push(
      specFor(k, 'queued', chaosInput(k, dice.weighted(DELEGATE_WEIGHTS)), { via: 'queue', duplicates }),
    );
  }
  for (let n = Math.ceil(queued / 2), b = 0; n < queued; b++) {
    const lines = Math.min(queued - n, dice.int(BATCH_LINES.min, BATCH_LINES.max));
    const duplicates = dice.chance(0.1) ? 1 : 0;
    const unit: JobSpec[] = [];
    for (let i = 0; i < lines; i++, n++) {
      const k = key('queued', n);
      const input = chaosInput(k, dice.weighted(DELEGATE_WEIGHTS));
      unit.push(specFor(k, 'queued', input, { via: 'batch', batch: `batch-${b}`, duplicates }));
    }
    units.push(unit);
  }
  for (let n = specs.length + units.flat().length; n < jobs; n++) {
    const k = key('job', n);
    const duplicates = dice.chance(0.05) ? dice.int(1, 2) : 0;
    specs.push(specFor(k, 'workload', chaosInput(k, dice.weighted(DELEGATE_WEIGHTS)), { duplicates }));
  }
  units.push(...specs.map((s) => [s]));
  specs.length = 0;
  // Specials (and batches, whole) spread through the run rather than bunched at its start.
  for (let i = units.length - 1; i > 0; i--) {
    const j = dice.int(0, i);
    const a = units[i];
    const b = units[j];
    if (a && b) {
      units[i] = b;
      units[j] = a;
    }
  }
  specs.push(...units.flat());
  // Runsync jobs that outlive the runsync wait with their webhook lost: only the sweeper can capture them,
  // inside the runsync retention (AWS timings scaled, options.ts), so none may expire. They are sent after
  // the scenario's steps (engine.ts), under the standing faults only: the steps stop the sweeper, the
  // upstream or its status allowance longer than a runsync window on purpose. A 429 burst keeps the
  // emulator's 10 s status window full (real time, not scaled) and an outage lasts 5 s: back to back they
  // outlast the scaled 12 s retention, which no sweeper could outrun (the promise excludes that).
  for (let n = 0; n < synced * 2; n++) {
    const k = key('sync-late', n);
    const input = chaosInput(k, 'echo', {
      durationMs: dice.int(SYNC_LATE_MS.min, SYNC_LATE_MS.max),
      _emulator: { webhook: { drop: true } },
    });
    specs.push(specFor(k, 'sync', input, { sync: true, afterFaults: true }));
  }
  return specs;
}
