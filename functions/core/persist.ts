// Writes that must outlast a store's bad moment: retried a few times beyond the SDK's own quick retries.
import { ArchiverError } from './errors.ts';

/** Pauses between tries: together about two seconds, long enough for a throttling burst or a brief outage. */
export const PERSIST_DELAYS_MS: readonly number[] = [100, 400, 1500];

/**
 * Runs `write` until it succeeds, retrying failures of the store (anything that is not an ArchiverError,
 * which is an answer, not a failure) after each of `delays`. Use it only for writes that are safe to repeat
 * and whose loss costs more than the wait: an audit line, the upstream id /run just answered.
 */
export async function persistently<T>(
  write: () => Promise<T>,
  delays: readonly number[] = PERSIST_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const delay = delays[attempt];
      if (err instanceof ArchiverError || delay === undefined) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
