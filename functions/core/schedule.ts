// When the sweeper looks at a job next: pure arithmetic over the retention window.

export interface ScheduleSettings {
  /** First look after submit, giving the webhook its chance. */
  firstLookMs: number;
  /** Later looks; RETENTION_MS / 6 by default, so a finished job is seen about six times before expiry. */
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

export const firstLookAt = (nowMs: number, s: ScheduleSettings) => nowMs + s.firstLookMs;

/** After a look that found the job unfinished; a little jitter keeps batches from moving in lockstep. */
export function nextLookAt(nowMs: number, s: ScheduleSettings, jobId: string): number {
  const jitter = (dueShardOf(jobId, 1000) / 1000) * Math.min(5000, s.lookIntervalMs * 0.1);
  return nowMs + s.lookIntervalMs + Math.floor(jitter);
}

/** After a failed look (5xx, timeout): retry soon but not in the same pass. */
export function retryLookAt(nowMs: number, s: ScheduleSettings, attempt: number): number {
  const backoff = Math.min(s.lookIntervalMs, 5000 * 2 ** Math.min(attempt, 6));
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
