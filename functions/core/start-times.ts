// Start times a submitter keeps: /run within its allowance after the start time the endpoint's rate item gave.
import type { ServiceDeps } from './services.ts';
import type { StartTime } from './submit.ts';

/**
 * How long a run claim takes, smoothed as TCP smooths round trips (mean + 2 × mean deviation): a start time is
 * reached that much early, so the claim is written by the start time and /run goes on time.
 */
export class ClaimTimes {
  private mean = 0;
  private deviation = 0;
  private seen = false;

  add(ms: number): void {
    if (!this.seen) {
      this.seen = true;
      this.mean = ms;
      this.deviation = ms / 2;
      return;
    }
    this.deviation += (Math.abs(ms - this.mean) - this.deviation) / 4;
    this.mean += (ms - this.mean) / 8;
  }

  /** How early to wake before a start time, in ms. */
  lead(): number {
    return this.mean + 2 * this.deviation;
  }
}

/** One per process: a Lambda container keeps what it learnt across batches. */
export const processClaimTimes = new ClaimTimes();

/** How a submitter keeps its start times: its sleep, and what it has learnt of its run claims' time. */
export interface Pace {
  sleep: (ms: number) => Promise<void>;
  claimTimes: ClaimTimes;
}

/**
 * A start time handed out by the endpoint's rate item. The upstream counts /run calls in any 10 s window, so
 * what matters is how late a /run goes, not only how far apart the start times are: if every /run goes
 * within the allowance after its start time, a window holds at most (10 s + allowance) × the rate. So the
 * run claim is written just before the start time, /run waits for it, and a /run that would go later (a
 * slow write, a busy event loop) is not sent: its job takes a fresh start time instead.
 */
export function startTime(deps: ServiceDeps, at: number, pace: Pace): StartTime {
  let reachedAt = 0;
  return {
    async reach() {
      const wait = at - leadOf(deps, pace, 1) - deps.clock.now();
      if (wait > 0) await pace.sleep(wait);
      reachedAt = deps.clock.now();
    },
    async arrive() {
      const nowMs = deps.clock.now();
      pace.claimTimes.add(nowMs - reachedAt);
      if (at > nowMs) await pace.sleep(at - nowMs);
      return deps.clock.now() <= at + deps.config.QUEUE_START_ALLOWANCE_MS;
    },
  };
}

/** How long `writes` claims take here: a start time is taken that far ahead, and reached that much early. */
export function leadOf(deps: ServiceDeps, pace: Pace, writes: number): number {
  return Math.min(writes * pace.claimTimes.lead(), deps.config.QUEUE_HORIZON_MS);
}
