// The sweeper's single flight: a lease per group of due shards, held by one invocation at a time.
import type { Clock, Logger } from './ports.ts';

/** One sweep lease item per group (`SWEEP#{group}` in the jobs table); a fan-out sweeper uses more groups. */
export interface SweepLease {
  /**
   * Takes or renews the group's lease until `nowMs + leaseMs`: granted when nobody holds it, when it ran
   * out, or when `owner` already holds it. False when another owner's lease is still running.
   */
  take(group: string, owner: string, nowMs: number, leaseMs: number): Promise<boolean>;
  /** Gives the lease back if `owner` still holds it, so the next invocation need not wait it out. */
  release(group: string, owner: string): Promise<void>;
}

/** The only group until the sweeper fans out: every due shard. */
export const ALL_SHARDS = 'all';

export interface HeldLease {
  /** Aborted when a renewal finds the lease taken by another owner (this holder was presumed dead). */
  readonly lost: AbortSignal;
  /** Stops renewing and gives the lease back. */
  release(): Promise<void>;
}

/**
 * Takes the lease and renews it every `leaseMs / 3` while held. A renewal that fails with a store error is
 * tried again at the next tick (the lease still runs); one refused because another owner holds it ends the
 * hold: the work in progress must stop, the other owner sweeps now.
 */
export async function holdSweepLease(
  deps: { clock: Clock; logger: Logger },
  lease: SweepLease,
  group: string,
  owner: string,
  leaseMs: number,
): Promise<HeldLease | undefined> {
  if (!(await lease.take(group, owner, deps.clock.now(), leaseMs))) return undefined;
  const lost = new AbortController();
  const timer = setInterval(() => {
    lease.take(group, owner, deps.clock.now(), leaseMs).then(
      (renewed) => {
        if (!renewed) lost.abort();
      },
      (err: unknown) => deps.logger.warn('sweep lease renewal failed', { group, error: String(err) }),
    );
  }, leaseMs / 3);
  timer.unref?.();
  return {
    lost: lost.signal,
    release: async () => {
      clearInterval(timer);
      if (lost.signal.aborted) return;
      await lease
        .release(group, owner)
        .catch((err: unknown) =>
          deps.logger.warn('sweep lease release failed', { group, error: String(err) }),
        );
    },
  };
}
