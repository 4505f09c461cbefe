// One sweeper invocation: holds the sweep lease and sweeps again while jobs come due within its minute.

import { randomUUID } from 'node:crypto';
import type { QueueDeps } from './queue-ports.ts';
import type { ServiceDeps } from './services.ts';
import { type SweepSummary, sweep } from './sweep.ts';
import { shardsOfGroup, sweepGroupNames } from './sweep-groups.ts';
import { ALL_SHARDS, holdSweepLease, type SweepLease } from './sweep-lease.ts';

export interface InvocationSummary {
  /** The group of due shards swept (sweep-groups.ts); `all` for a single sweeper. */
  group: string;
  /** False when another invocation held the lease all along: this one did nothing. */
  leaseHeld: boolean;
  passes: number;
  longestPassMs: number;
  /** The most overdue job any pass began with. */
  oldestDueAgeMs: number;
  archived: number;
  expired: number;
  /** The last pass's figures. */
  last?: SweepSummary;
}

export interface InvocationOptions {
  /** Milliseconds left in this invocation (Lambda's context.getRemainingTimeInMillis). */
  remainingMs: () => number;
  /** Waits between passes; a test passes one that moves its clock. */
  sleep?: (ms: number) => Promise<void>;
  /** The group to sweep, one of sweepGroupNames(SWEEP_GROUPS); default `all` (one group). */
  group?: string;
  /** The submit queue, for jobs left QUEUED (core/queue-recovery.ts). */
  queue?: QueueDeps;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sweeps; passes begin for up to SWEEP_INVOCATION_MS. After each pass it looks at when the next job is due: within the
 * window it waits for it (at least SWEEP_REPEAT_MS) and sweeps again; otherwise it ends, and the next
 * scheduled invocation takes over. So a job due every few seconds (a runsync job, whose result lives 60 s
 * upstream) is looked at when due, while an idle minute costs one short invocation.
 *
 * Single flight comes from the lease: an invocation that finds it held (the last one is still in a long pass)
 * waits for it within its own window, so sweeping resumes the moment the holder lets go, then leaves. A holder presumed dead loses the lease and stops its pass.
 */
export async function sweepInvocation(
  deps: ServiceDeps,
  lease: SweepLease | undefined,
  options: InvocationOptions,
): Promise<InvocationSummary> {
  const { config, clock } = deps;
  const sleep = options.sleep ?? realSleep;
  const group = options.group ?? ALL_SHARDS;
  // An unknown group is refused before anything is read or leased.
  const shards = shardsOfGroup(group, config.SWEEP_GROUPS, config.DUE_SHARDS);
  const summary: InvocationSummary = {
    group,
    leaseHeld: false,
    passes: 0,
    longestPassMs: 0,
    oldestDueAgeMs: 0,
    archived: 0,
    expired: 0,
  };
  // Passes start only before endAt; a pass working through a backlog may run on to the Lambda's own limit,
  // as a single pass always could (the next invocation waits for the lease meanwhile).
  const endAt =
    clock.now() + Math.min(config.SWEEP_INVOCATION_MS, options.remainingMs() - config.SWEEP_SAFETY_MS);

  const owner = randomUUID();
  let held = lease ? await holdSweepLease(deps, lease, group, owner, config.SWEEP_LEASE_MS) : undefined;
  while (lease && !held) {
    if (clock.now() >= endAt || options.remainingMs() < config.SWEEP_SAFETY_MS + 1000) {
      deps.logger.info('another sweeper holds the lease; leaving it the pass');
      return summary;
    }
    await sleep(Math.min(1000, config.SWEEP_LEASE_MS / 4));
    held = await holdSweepLease(deps, lease, group, owner, config.SWEEP_LEASE_MS);
  }
  summary.leaseHeld = true;

  try {
    for (;;) {
      const passStarted = clock.now();
      const pass = await sweep(deps, {
        remainingMs: () => (held?.lost.aborted ? 0 : options.remainingMs()),
        shards,
        queue: options.queue,
      });
      summary.passes++;
      summary.last = pass;
      summary.longestPassMs = Math.max(summary.longestPassMs, clock.now() - passStarted);
      summary.oldestDueAgeMs = Math.max(summary.oldestDueAgeMs, pass.oldestDueAgeMs);
      summary.archived += pass.archived;
      summary.expired += pass.expired;
      if (held?.lost.aborted) break;

      const now = clock.now();
      // A pass stopped by a 429 waits the repeat pause; one that found nothing due waits for the next job.
      const next = pass.stoppedEarly ? now : await nextDueAt(deps, shards, endAt);
      if (next === undefined) break;
      const wakeAt = Math.max(next, now + config.SWEEP_REPEAT_MS);
      if (wakeAt >= endAt) break;
      await sleep(wakeAt - now);
      if (held?.lost.aborted) break;
    }
  } finally {
    await held?.release();
  }
  return summary;
}

/**
 * Every group at once, each under its own lease, as one scheduled tick per group would (local mode's manual
 * run, a sweeper invoked without a group). No group waits for another's backlog.
 */
export async function sweepEveryGroup(
  deps: ServiceDeps,
  lease: SweepLease | undefined,
  options: Omit<InvocationOptions, 'group'>,
): Promise<InvocationSummary> {
  const groups = sweepGroupNames(deps.config.SWEEP_GROUPS);
  return combinedSummary(
    await Promise.all(groups.map((group) => sweepInvocation(deps, lease, { ...options, group }))),
  );
}

/** Several groups' invocations as one summary: counts added, lags and passes at their worst. */
export function combinedSummary(each: readonly InvocationSummary[]): InvocationSummary {
  if (each.length === 1 && each[0]) return each[0];
  return {
    group: each.map((s) => s.group).join(','),
    leaseHeld: each.some((s) => s.leaseHeld),
    passes: each.reduce((n, s) => n + s.passes, 0),
    longestPassMs: Math.max(0, ...each.map((s) => s.longestPassMs)),
    oldestDueAgeMs: Math.max(0, ...each.map((s) => s.oldestDueAgeMs)),
    archived: each.reduce((n, s) => n + s.archived, 0),
    expired: each.reduce((n, s) => n + s.expired, 0),
  };
}

/** The earliest dueAt up to `horizonMs` over the shards, or undefined when nothing is due by then. */
async function nextDueAt(
  deps: ServiceDeps,
  shards: readonly number[],
  horizonMs: number,
): Promise<number | undefined> {
  const firsts = await Promise.all(shards.map((s) => deps.jobs.queryDue(s, horizonMs, 1)));
  const dueAts = firsts.flat().map((j) => j.dueAt);
  return dueAts.length > 0 ? Math.min(...dueAts) : undefined;
}
