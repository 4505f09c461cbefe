// The jobs of a chaos run: what each logical request asks for and how it is expected to end.
import type { JobPolicy } from '../../functions/core/job.ts';
import { SYNC_LATE_MS } from './options.ts';
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
  | 'ambiguous-unsent';

export type Expectation = 'archived' | 'expired' | 'unconfirmed';

export interface JobSpec {
  /** Idempotency-Key and `input.chaosKey`. */
  key: string;
  role: Role;
  via: 'submit' | 'track';
  input: Record<string, unknown>;
  policy?: JobPolicy;
  sync?: boolean;
  /** Extra POST /jobs with the same key sent at the same moment (submit) or extra tracks (track). */
  duplicates: number;
  expect: Expectation;
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
  role === 'held' ? 'expired' : role === 'ambiguous-unsent' ? 'unconfirmed' : 'archived';

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

/** The seeded plan of `jobs` logical requests: mostly plain submits, some tracked, a few special ones. */
export function planWorkload(jobs: number, seed: number): JobSpec[] {
  const dice = new Dice(seed, 'workload');
  const key = (role: string, n: number) => `chaos-s${seed}-${role}-${n}`;
  const specs: JobSpec[] = [];
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
  for (let n = specs.length; n < jobs; n++) {
    const k = key('job', n);
    const duplicates = dice.chance(0.05) ? dice.int(1, 2) : 0;
    specs.push(specFor(k, 'workload', chaosInput(k, dice.weighted(DELEGATE_WEIGHTS)), { duplicates }));
  }
  // Specials spread through the run rather than bunched at its start.
  for (let i = specs.length - 1; i > 0; i--) {
    const j = dice.int(0, i);
    const a = specs[i];
    const b = specs[j];
    if (a && b) {
      specs[i] = b;
      specs[j] = a;
    }
  }
  // Runsync jobs that outlive the runsync wait with their webhook lost: only the sweeper can capture them,
  // inside the runsync retention (AWS timings scaled, options.ts), so none may expire. They come last, after
  // the steps that stop the sweeper or the upstream on purpose (longer than a runsync window: the promise
  // excludes a sweeper stopped that long), among the rest of the faults and the last 429 burst.
  for (let n = 0; n < synced * 2; n++) {
    const k = key('sync-late', n);
    const input = chaosInput(k, 'echo', {
      durationMs: dice.int(SYNC_LATE_MS.min, SYNC_LATE_MS.max),
      _emulator: { webhook: { drop: true } },
    });
    specs.push(specFor(k, 'sync', input, { sync: true }));
  }
  return specs;
}
