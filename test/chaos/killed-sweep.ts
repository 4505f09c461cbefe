// A sweeper pass killed mid-way: every call it has in flight, and every later one, never settles.
import { LocalEventPublisher } from '../../functions/adapters/event-publishers.ts';
import type { JobRepository } from '../../functions/core/ports.ts';
import type { ServiceDeps } from '../../functions/core/services.ts';
import { sweep } from '../../functions/core/sweep.ts';
import type { UpstreamClient } from '../../functions/core/upstream-port.ts';
import { sleep } from './rng.ts';
import { hang, type KillSwitch } from './storage-faults.ts';
import type { ChaosSystem } from './system.ts';

export interface KilledPass {
  /** Jobs the pass had claimed for capture before it died. */
  claimed: number;
  /** Of those, archived before it died. */
  archived: number;
  /** Captures cut mid-way: their lease keeps the job until it runs out, then another capture takes it. */
  cut: number;
  /** The jobs it claimed: a crash after their job event may see it sent again when they are announced. */
  claimedIds: string[];
  ranMs: number;
}

/** Calls that hang once the switch is thrown, in flight or not, failed or not. */
function killable<A extends unknown[], R>(kill: KillSwitch, call: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    if (kill.killed) return hang();
    try {
      const out = await call(...args);
      return kill.killed ? hang() : out;
    } catch (error) {
      if (kill.killed) return hang();
      throw error;
    }
  };
}

/** The upstream as a dead process sees it: nothing it calls after the kill (or had in flight) answers. */
export function killableUpstream(upstream: UpstreamClient, kill: KillSwitch): UpstreamClient {
  return {
    run: killable(kill, upstream.run.bind(upstream)),
    runSync: killable(kill, upstream.runSync.bind(upstream)),
    status: killable(kill, upstream.status.bind(upstream)),
    statusSync: killable(kill, upstream.statusSync.bind(upstream)),
    stream: killable(kill, upstream.stream.bind(upstream)),
    cancel: killable(kill, upstream.cancel.bind(upstream)),
    retry: killable(kill, upstream.retry.bind(upstream)),
    purgeQueue: killable(kill, upstream.purgeQueue.bind(upstream)),
    health: killable(kill, upstream.health.bind(upstream)),
  };
}

/** The repository, noting which jobs the pass claimed. */
function claimsNoted(jobs: JobRepository, claimed: Set<string>): JobRepository {
  return new Proxy(jobs, {
    get(target, property, receiver) {
      if (property === 'claimCapture') {
        return async (...args: Parameters<JobRepository['claimCapture']>) => {
          const claim = await target.claimCapture(...args);
          if (claim.claimed) claimed.add(claim.job.jobId);
          return claim;
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Runs one sweeper pass on its own runtime (the regular sweeper paused, as one-at-a-time Lambdas are) and
 * kills it once it has claimed a capture and archived `afterArchived` jobs, or when it ends. `maxMs` is only
 * a cap: a slow machine claims later, and the kill waits for the pass's progress, not for a time.
 */
export async function killSweeperMidPass(
  system: ChaosSystem,
  options: { afterArchived: number; maxMs: number },
): Promise<KilledPass> {
  const { runtime, kill } = system.doomedRuntime();
  const claimed = new Set<string>();
  const deps: ServiceDeps = {
    ...runtime,
    upstream: killableUpstream(runtime.upstream, kill),
    jobs: claimsNoted(runtime.jobs, claimed),
  };
  const started = Date.now();
  let finished = false;
  const pass = sweep(deps, { remainingMs: () => 60_000 - (Date.now() - started) }).then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  void pass;
  const archived = () => runtime.metrics.totals.get('JobsArchived') ?? 0;
  const cutting = () => claimed.size > 0 && archived() >= options.afterArchived;
  while (!finished && !cutting() && Date.now() - started < options.maxMs) {
    await sleep(1);
  }
  kill.kill();
  const events = runtime.events instanceof LocalEventPublisher ? runtime.events.published : [];
  const done = new Set(events.filter((e) => e.type === 'Job Archived').map((e) => e.detail.jobId));
  return {
    claimed: claimed.size,
    archived: done.size,
    cut: [...claimed].filter((id) => !done.has(id)).length,
    claimedIds: [...claimed],
    ranMs: Date.now() - started,
  };
}
