// When the sweeper looks at a job next: pure arithmetic over the retention window.
//
// The rule (docs/architecture.md "Sweeper schedule"): a look asked at time t that finds the job unfinished
// proves the job finishes after t, so the upstream keeps its result until at least t + retention (the
// retention runs from the finish). The next look is due before that, by a margin the sweeper's own lag
// (OldestDueAgeMs) must stay under: then the first look after the finish still finds the result.

export interface ScheduleSettings {
  /** First look after submit; at most `lookIntervalMs` (the safe bound), shorter only if configured so. */
  firstLookMs: number;
  /** Later looks: at most retention − margin after the last look that found the job unfinished. */
  lookIntervalMs: number;
}

/** Shard of the sparse due index for a job id: spreads the sweeper's queries over partitions. */
export function dueShardOf(jobId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * The longest safe wait after a look that found the job unfinished: the retention less the margin. Looks
 * configured further apart are brought back to it (functions/config.ts).
 */
export const safeLookIntervalMs = (retentionMs: number, marginMs: number) => retentionMs - marginMs;

/** Jitter spreads batches so they do not move in lockstep; it only ever brings a look earlier. */
const jitterOf = (jobId: string, intervalMs: number) =>
  Math.floor((dueShardOf(jobId, 1000) / 1000) * Math.min(5000, intervalMs * 0.1));

/**
 * The first look, counted from `runAttemptedMs` (just before /run was called: the job cannot have finished
 * earlier, so that moment is the first look that found it unfinished).
 */
export const firstLookAt = (runAttemptedMs: number, s: ScheduleSettings) => runAttemptedMs + s.firstLookMs;

/**
 * After a look asked at `askedAtMs` found the job unfinished. `askedAtMs` is when the /status request was
 * sent, not when its answer came: the answer describes a moment at or after the sending.
 */
export function nextLookAt(askedAtMs: number, s: ScheduleSettings, jobId: string): number {
  return askedAtMs + s.lookIntervalMs - jitterOf(jobId, s.lookIntervalMs);
}

/**
 * After a failed look (5xx, timeout): retry soon but not in the same pass. The last successful look's
 * guarantee still runs, so retries come at most a quarter of the margin apart: several fit in it.
 */
export function retryLookAt(nowMs: number, s: ScheduleSettings, attempt: number, marginMs: number): number {
  const backoff = Math.min(s.lookIntervalMs, Math.max(1000, marginMs / 4), 5000 * 2 ** Math.min(attempt, 6));
  return nowMs + backoff;
}

/**
 * A runsync job that outlived the runsync wait keeps its result upstream for only 60 s once done, and its
 * webhook may be lost: it must be looked at every few seconds however far behind the sweeper is. Its dueAt
 * is set this far back, so it sorts ahead of any backlog in the oldest-first due index and every pass
 * looks at it (sweep.ts keeps it out of the lag metric and looks again at most every SWEEP_REPEAT_MS).
 */
export const SYNC_PRIORITY_MS = 10 * 60_000;

/** The dueAt of a runsync job's next look: at once, ahead of the backlog. */
export const syncLookAt = (nowMs: number) => nowMs - SYNC_PRIORITY_MS;
