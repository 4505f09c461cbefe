// An ambiguous submit whose /run never reached the upstream: by design it waits out its job life, so not a fault.
import type { Job } from '../../functions/core/job.ts';
import type { Emulator } from '../../local/emulator/index.ts';
import type { UpstreamLedger } from './upstream-ledger.ts';

/** The upstream's job life when the job names none (docs/operations.md); the sweeper's patience follows it. */
export const DEFAULT_TTL_MS = 24 * 3_600_000;
/** A job life shorter than this ends inside a run: the run waits for it and checks how it settled. */
export const LIFE_WITHIN_RUN_MS = 3_600_000;

/**
 * A job left SUBMITTING with `submitAmbiguous` (its /run cut in flight, e.g. by the "upstream unreachable"
 * phase) of which the upstream has no trace, neither started nor queued. The archiver cannot tell "never
 * arrived" from "arrived, answer lost" (docs/operations.md), so the sweeper keeps it until the job's life is
 * over and then settles it SUBMIT_UNCONFIRMED; no GPU job ran, so no result can be lost. It must still be in
 * the due index, or nobody would settle it. A short job life (the scenario's own ambiguous submits) ends inside
 * the run, so those are waited for and checked as settled.
 */
export function waitsOutItsLife(
  job: Job | undefined,
  key: string,
  ledger: UpstreamLedger,
  emulator: Emulator,
): boolean {
  if (job?.state !== 'SUBMITTING' || job.submitAmbiguous !== true) return false;
  if ((job.policy?.ttl ?? DEFAULT_TTL_MS) < LIFE_WITHIN_RUN_MS) return false;
  if (job.runAttemptedAt === undefined || job.upstreamId !== undefined || job.dueAt === undefined)
    return false;
  if (ledger.idsFor(key).length > 0) return false;
  return !emulator.jobs.list().some((snapshot) => snapshot.input.chaosKey === key);
}
