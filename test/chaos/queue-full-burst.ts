// Bursts of 429 on /run: the endpoint's GPUs all taken and its queue past the documented limit for a while.
import { isTerminal } from '../../functions/core/job-state.ts';
import type { Emulator } from '../../local/emulator/index.ts';
import { send } from './http.ts';
import { sleep } from './rng.ts';
import type { CleanView } from './system.ts';

/** Past `queueLimitMin` (50) and past WorkersMax × 500 with no workers: the documented queue-full rule. */
const FILLING_JOBS = 51;

export interface QueueFullBurst {
  /** The workers come back and the queue drains; returns the queue-full 429s the emulator sent meanwhile. */
  end(): number;
}

/**
 * Another client's jobs fill the endpoint's queue while its workers are gone (scaled to zero): from then on every
 * /run and /runsync, the submitter's included, is answered 429 until `end()` brings the workers back. The filling
 * jobs are a millisecond of echo each, outside the run's ledger (no chaos key, no webhook).
 */
export async function fillUpstreamQueue(
  emulator: Emulator,
  endpointId: string,
  workers: number,
): Promise<QueueFullBurst> {
  const before = emulator.stats.queueFull;
  emulator.configureEndpoint(endpointId, { workers: 0, workersMax: 0 });
  const run = () =>
    send(
      emulator.baseUrlFor(endpointId),
      'POST',
      '/run',
      { input: { handler: 'echo', durationMs: 1, neighbour: true } },
      { authorization: `Bearer ${emulator.apiKey}` },
    );
  let filled = 0;
  // The archiver's own jobs join the queue meanwhile; a neighbour /run refused (the queue already full) is fine.
  while (filled < FILLING_JOBS && emulator.stats.queueFull === before) {
    const answers = await Promise.all(Array.from({ length: FILLING_JOBS - filled }, run));
    filled += answers.filter((a) => a.status === 200).length;
  }
  return {
    end: () => {
      emulator.configureEndpoint(endpointId, { workers, workersMax: workers });
      return emulator.stats.queueFull - before;
    },
  };
}

/**
 * Resolves once one of `jobIds` has met a 429 on /run (its `submit.deferred` line: put back QUEUED), or all have
 * settled without; true if one did. From the first 429 on the submitter pauses the endpoint for every job, so
 * the rest of the batch waits in the queue rather than meeting 429s of its own: that is the back-pressure.
 * `capMs` only bounds a burst the submitter never drains into.
 */
export async function awaitBackPressure(
  view: CleanView,
  jobIds: readonly string[],
  capMs: number,
): Promise<boolean> {
  const settled = new Set<string>();
  for (const until = Date.now() + capMs; Date.now() < until; await sleep(100)) {
    for (const id of jobIds) {
      if (settled.has(id)) continue;
      const events = await view.jobs.listEvents(id).catch(() => []);
      if (events.some((e) => e.type === 'submit.deferred')) return true;
      if (isTerminal((await view.jobs.get(id).catch(() => undefined))?.state ?? 'QUEUED')) settled.add(id);
    }
    if (settled.size === jobIds.length) return false;
  }
  return false;
}
