// How long an endpoint pauses after a 429 on /run: one back-off per endpoint, grown by the episode, not per job.

/** One pause of an endpoint's /run starts: set at `at`, lasting `ms`. */
export interface EndpointPause {
  at: number;
  ms: number;
}

/** The first pause of an episode, and the most one can last (the upstream's queue drains as its GPUs work). */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;
/** A 429 this soon after a pause ended (or one pause length, if longer) means the upstream is still full. */
const STILL_FULL_WITHIN_MS = 10_000;

/**
 * The pause to set after the upstream answered 429 to a /run started at `startedAt`, or undefined when the
 * pause in force already covers it. A /run that started before the last pause ended was sent on a start time
 * handed out before it: its 429 is that pause's echo, not news. A 429 soon after the pause ended doubles it;
 * one after a quiet spell starts a new episode at the base. Never shorter than the upstream's Retry-After.
 */
export function nextPause(
  last: EndpointPause | undefined,
  startedAt: number,
  nowMs: number,
  retryAfterMs: number,
): EndpointPause | undefined {
  const end = last ? last.at + last.ms : Number.NEGATIVE_INFINITY;
  if (last && startedAt < end) {
    return nowMs + retryAfterMs > end ? { at: last.at, ms: nowMs + retryAfterMs - last.at } : undefined;
  }
  const stillFull = last !== undefined && startedAt < end + Math.max(last.ms, STILL_FULL_WITHIN_MS);
  const grown = stillFull ? Math.min(BACKOFF_CAP_MS, last.ms * 2) : BACKOFF_BASE_MS;
  return { at: nowMs, ms: Math.max(grown, retryAfterMs) };
}

/** When an endpoint's last pause ends (epoch ms), or undefined if it never paused. */
export const pauseEnd = (pause: EndpointPause | undefined) => (pause ? pause.at + pause.ms : undefined);
