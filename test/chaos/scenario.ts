// The timed events of a chaos run: ambiguous submits, a killed sweeper and submitter, a restart, an upstream outage, 429 bursts.
import type { Emulator } from '../../local/emulator/index.ts';
import type { ChaosClient, RequestRecord } from './client.ts';
import type { Forger } from './forgery.ts';
import type { Gate } from './gate.ts';
import { type KilledSubmitter, killSubmitterMidBatch } from './killed-submitter.ts';
import { type KilledPass, killSweeperMidPass } from './killed-sweep.ts';
import { BASE_FAULTS, CHAOS_EMULATOR } from './options.ts';
import { awaitBackPressure, fillUpstreamQueue } from './queue-full-burst.ts';
import { rateLimitBurst } from './rate-limit-burst.ts';
import { sleep } from './rng.ts';
import type { ChaosSystem } from './system.ts';
import { UPSTREAM_WAIT_MS, type UpstreamLedger } from './upstream-ledger.ts';
import type { UpstreamProxy } from './upstream-proxy.ts';
import { chaosInput, type JobSpec, type Role, specFor } from './workload.ts';

export const ENDPOINT_ID = 'chaos-endpoint';
/**
 * Held jobs run longer than it takes to submit them: a look before the archiver or the upstream goes down then
 * finds them still running, never finished (they must end EXPIRED, not archived).
 */
const HELD_RUN_MS = 2500;
/** Jobs queued as each /run burst begins, in one batch. */
const BURST_QUEUED = 12;
/** Jobs queued while the pollers are paused, just before the archiver stops. */
const LOST_AT_RESTART = 6;
/** The batch of the killed submitter, and the /run answer it dies at. */
const CRASH_BATCH = 8;
const CRASH_AT_RUN = 3;
const CRASH_TTL_MS = 60_000;
/**
 * Longest a /run burst is held waiting for the submitter to meet a 429. A cap, not a verdict: a burst that ends
 * without one is reported as such (the endpoint may still be paused by an earlier burst's back-off).
 */
const BURST_HOLD_CAP_MS = 60_000;

/** What the events did, for the figures. */
export interface ScenarioFacts {
  killedPass?: KilledPass;
  restartDowntimeMs: number;
  outageMs: number;
  /** 429s the emulator sent to the archiver during each burst. */
  bursts: number[];
  /** 429s the bursting neighbour itself got. */
  neighbour429: number;
  /**
   * Per /run burst: queue-full 429s sent (to anyone), jobs queued as it began, how soon the submitter met a 429
   * for one of them (undefined: it never did), and how long the queue stayed full.
   */
  runBursts: Array<{ queueFull: number; queued: number; metMs: number | undefined; heldMs: number }>;
  killedSubmitter?: KilledSubmitter;
  /** Jobs queued just before the restart, whose messages the queue lost with it. */
  lostAtRestart: number;
  /** The operator's reconciles of ambiguous submits whose webhook never came. */
  reconciled: number;
  timeline: string[];
}

export interface ScenarioContext {
  emulator: Emulator;
  system: ChaosSystem;
  proxy: UpstreamProxy;
  client: ChaosClient;
  gate: Gate;
  forger: Forger;
  ledger: UpstreamLedger;
  seed: number;
  parkedId: string;
  /** A finished upstream job of the workload and its genuine webhook body, to forge bodies from. */
  foreignBody: () => { jobId: string; body: string } | undefined;
  log: (line: string) => void;
  /** Background work the run must wait for before it settles. */
  pending: Promise<unknown>[];
}

export interface Step {
  /** Fraction of the workload submitted when the step starts. */
  at: number;
  name: string;
  run: (ctx: ScenarioContext, facts: ScenarioFacts) => Promise<void>;
}

const spec = (ctx: ScenarioContext, role: Role, n: number, extra: Record<string, unknown>, more = {}) => {
  const key = `chaos-s${ctx.seed}-${role}-${n}`;
  return specFor(key, role, chaosInput(key, 'echo', extra), more);
};

const lastJob = (record: RequestRecord) => record.jobIds.at(-1);

/** Waits for the held jobs to finish upstream, then ends their retention: /status answers 404 from now on. */
async function expireHeld(ctx: ScenarioContext, held: readonly JobSpec[]): Promise<void> {
  for (const s of held) {
    const id = await ctx.ledger.awaitStarted(s.key);
    await ctx.emulator.jobs.waitFor(id, undefined, UPSTREAM_WAIT_MS);
    ctx.emulator.jobs.expire(id);
  }
}

/**
 * /run's answer lost after the job was created (502): the client's retry with the same key gets the same
 * job, never a second GPU job; the job's webhook archives it, or, when that never comes, an operator's
 * reconcile does. Then /run failing before anything was created: settled REJECTED once the job's life is over.
 * A forged body (valid token, another job's final status) is posted to each while it has no upstream id.
 */
async function ambiguousSubmits(ctx: ScenarioContext, facts: ScenarioFacts): Promise<void> {
  // No other /run meanwhile, the submitter's included: only these jobs are made ambiguous.
  await ctx.gate.close();
  await ctx.system.pausePollers();
  try {
    ctx.emulator.setFaults({ ...BASE_FAULTS, lostResponse: { run: 1 } });
    const answered = [0, 1, 2, 3].map((n) =>
      spec(ctx, 'ambiguous', n, {
        durationMs: 1500,
        _emulator: { webhook: { drop: false, body: 'normal' } },
      }),
    );
    const unanswered = [0, 1].map((n) =>
      spec(ctx, 'ambiguous-reconcile', n, { durationMs: 200, _emulator: { webhook: { drop: true } } }),
    );
    const lost = await Promise.all(
      [...answered, ...unanswered].map((s) => ctx.client.submit(s, { gated: false })),
    );
    ctx.emulator.setFaults({ ...BASE_FAULTS, serverError: { status: 0.05, run: 1 } });
    const unsent = [0, 1, 2].map((n) => spec(ctx, 'ambiguous-unsent', n, {}, { policy: { ttl: 10_000 } }));
    const failed = await Promise.all(unsent.map((s) => ctx.client.submit(s, { gated: false })));
    for (const record of [...lost, ...failed]) {
      const target = lastJob(record);
      const foreign = ctx.foreignBody();
      if (target && foreign) await ctx.forger.forge('foreign-body', target, foreign.jobId, foreign.body);
    }
    for (const record of lost.slice(answered.length)) {
      ctx.pending.push(
        (async () => {
          const upstreamId = await ctx.ledger.awaitStarted(record.spec.key);
          await ctx.emulator.jobs.waitFor(upstreamId, undefined, UPSTREAM_WAIT_MS);
          const answer = await ctx.client.reconcile(record, upstreamId);
          if (answer?.status === 200) facts.reconciled++;
        })().catch((error: unknown) => {
          // Awaited only after the workload: a rejection left alone until then would end the whole run.
          record.failure ??= `reconcile never tried: ${error instanceof Error ? error.message : String(error)}`;
        }),
      );
    }
  } finally {
    ctx.emulator.setFaults(BASE_FAULTS);
    ctx.system.resumePollers();
    ctx.gate.open();
  }
}

/**
 * A batch of queued jobs is drained by a submitter that dies right after one /run is answered (the regular
 * pollers paused meanwhile, as other containers would be busy): killed-submitter.ts. Their webhooks arrive, so
 * a job whose /run went out is archived from its webhook; one whose run claim was taken and never sent is
 * settled SUBMIT_UNCONFIRMED once its short job life is over.
 */
async function killSubmitter(ctx: ScenarioContext, facts: ScenarioFacts): Promise<void> {
  await ctx.system.pausePollers();
  try {
    const specs = Array.from({ length: CRASH_BATCH }, (_, n) =>
      spec(
        ctx,
        'queued-crash',
        n,
        { durationMs: 200, _emulator: { webhook: { drop: false, body: 'normal' } } },
        // A short job life, so a claim taken and never sent is settled within the run; long enough that the
        // upstream still holds the result when a slow webhook's /status looks (the emulator forgets at ttl).
        { via: 'batch', batch: 'crash', policy: { ttl: CRASH_TTL_MS } },
      ),
    );
    const records = await ctx.client.submitBatch(specs, { gated: false });
    const ids = new Set(records.flatMap((r) => r.jobIds.slice(-1)));
    facts.killedSubmitter = await killSubmitterMidBatch(ctx.system, ids, { killAfterRuns: CRASH_AT_RUN });
  } finally {
    ctx.system.resumePollers();
  }
}

async function killSweeper(ctx: ScenarioContext, facts: ScenarioFacts): Promise<void> {
  await ctx.system.pauseSweeper();
  // Let due jobs pile up, as they do while a pass is late: on a slow machine that takes longer, so wait for
  // the pile rather than for a fixed time (bounded: a run with nothing due kills an idle pass).
  const view = ctx.system.clean();
  try {
    // A pass that found nothing to claim (its due jobs still running upstream, or taken by their webhooks
    // meanwhile) cut nothing: the fault is tried again on a fresh pile, a few times at most.
    for (let attempt = 0; attempt < 4 && !facts.killedPass?.claimed; attempt++) {
      const until = Date.now() + 30_000;
      await sleep(1600);
      while ((await ctx.system.dueBacklog(view)).count < 20 && Date.now() < until) await sleep(200);
      facts.killedPass = await killSweeperMidPass(ctx.system, { afterArchived: 8, maxMs: 60_000 });
    }
  } finally {
    view.close();
  }
  ctx.system.resumeSweeper();
}

/**
 * Three jobs whose webhook is dropped are accepted, then the archiver stops; while it is down they finish and
 * expire. Jobs queued with the pollers paused just before lose their messages with the queue (local mode's is
 * in memory): the sweeper's queue recovery must send them.
 */
async function restartStack(ctx: ScenarioContext, facts: ScenarioFacts): Promise<void> {
  await ctx.system.pauseSweeper();
  await ctx.system.pausePollers();
  const lost = Array.from({ length: LOST_AT_RESTART }, (_, n) =>
    spec(ctx, 'queued-lost', n, {}, { via: 'queue' }),
  );
  await Promise.all(lost.map((s) => ctx.client.submit(s, { gated: false })));
  facts.lostAtRestart = lost.length;
  const held = [0, 1, 2].map((n) =>
    spec(ctx, 'held', n, { durationMs: HELD_RUN_MS, _emulator: { webhook: { drop: true } } }),
  );
  await Promise.all(held.map((s) => ctx.client.submit(s, { gated: false })));
  const down = Date.now();
  await ctx.system.restart(async () => {
    await expireHeld(ctx, held);
    await sleep(Math.max(0, 3000 - (Date.now() - down)));
  });
  facts.restartDowntimeMs = Date.now() - down;
}

/** The upstream's API becomes unreachable for several sweeps; jobs held meanwhile come back as EXPIRED. */
async function upstreamOutage(ctx: ScenarioContext, facts: ScenarioFacts): Promise<void> {
  // No /run in flight as the connections are cut (it would be ambiguous, not refused), the submitter's included.
  await ctx.gate.close();
  await ctx.system.pausePollers();
  const held = [3, 4, 5].map((n) =>
    spec(ctx, 'held', n, { durationMs: HELD_RUN_MS, _emulator: { webhook: { drop: true } } }),
  );
  try {
    await Promise.all(held.map((s) => ctx.client.submit(s, { gated: false })));
    await ctx.proxy.takeDown();
  } finally {
    ctx.system.resumePollers();
    ctx.gate.open();
  }
  const down = Date.now();
  await expireHeld(ctx, held);
  await sleep(Math.max(0, 5000 - (Date.now() - down)));
  await ctx.proxy.bringUp();
  facts.outageMs = Date.now() - down;
}

/**
 * Two neighbours at once: one spends the status allowance (the sweeper's looks and the webhooks' /status get
 * 429), one fills the endpoint's queue with its GPUs gone (every /run gets 429). A batch queued as it begins
 * meets the 429s on /run; the queue stays full until the submitter has met one (and the status burst is over):
 * the batch's jobs must go back QUEUED, never REJECTED, and be sent once the queue drains.
 */
async function burst(ctx: ScenarioContext, facts: ScenarioFacts): Promise<void> {
  const n = facts.runBursts.length;
  const full = await fillUpstreamQueue(ctx.emulator, ENDPOINT_ID, CHAOS_EMULATOR.workers ?? 1);
  const specs = Array.from({ length: BURST_QUEUED }, (_, i) =>
    spec(ctx, 'queued-burst', n * BURST_QUEUED + i, {}, { via: 'batch', batch: `burst-${n}` }),
  );
  const started = Date.now();
  let metMs: number | undefined;
  try {
    const statusBurst = rateLimitBurst(ctx.emulator, ENDPOINT_ID, ctx.parkedId, 3000);
    const records = await ctx.client.submitBatch(specs, { gated: false });
    const view = ctx.system.clean();
    try {
      const met = await awaitBackPressure(
        view,
        records.flatMap((r) => r.jobIds.slice(-1)),
        BURST_HOLD_CAP_MS,
      );
      if (met) metMs = Date.now() - started;
    } finally {
      view.close();
    }
    const { others, own } = await statusBurst;
    facts.bursts.push(others);
    facts.neighbour429 += own;
  } finally {
    const queueFull = full.end();
    facts.runBursts.push({ queueFull, queued: specs.length, metMs, heldMs: Date.now() - started });
  }
}

export const STEPS: readonly Step[] = [
  // Early: a dead pass's leases (2 min) and unannounced jobs then run out while the workload still runs.
  { at: 0.04, name: 'sweeper killed mid-pass', run: killSweeper },
  { at: 0.08, name: 'ambiguous submits', run: ambiguousSubmits },
  { at: 0.15, name: 'submitter killed mid-batch', run: killSubmitter },
  { at: 0.3, name: '429 burst', run: burst },
  { at: 0.42, name: 'archiver stopped and restarted', run: restartStack },
  { at: 0.55, name: '429 burst', run: burst },
  { at: 0.65, name: 'upstream unreachable', run: upstreamOutage },
  { at: 0.8, name: '429 burst', run: burst },
];

/** Runs the steps in order as the workload reaches each one's point. */
export async function runScenario(
  ctx: ScenarioContext,
  progress: () => number,
  facts: ScenarioFacts,
): Promise<void> {
  for (const step of STEPS) {
    while (progress() < step.at) await sleep(50);
    const started = Date.now();
    await step.run(ctx, facts);
    const line = `${step.name} at ${Math.round(step.at * 100)}% (${Date.now() - started} ms from ${new Date(started).toISOString()})`;
    facts.timeline.push(line);
    ctx.log(line);
  }
}
