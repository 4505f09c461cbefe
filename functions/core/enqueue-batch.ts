// POST /jobs/batch: each item enqueued on its own, with its own idempotency and its own answer.
import type { BatchItem } from '../schemas/batch.ts';
import { enqueueJob } from './enqueue.ts';
import type { Job } from './job.ts';
import type { QueueDeps } from './queue-ports.ts';
import type { ServiceDeps } from './services.ts';

/** An item's answer: the job (created or replayed), or the error it alone got. */
export type BatchOutcome =
  | { index: number; ok: true; created: boolean; job: Job }
  | { index: number; ok: false; error: unknown };

/** Items enqueued at once: enough to hide store latency, few enough to stay inside the API's 29 s. */
const BATCH_CONCURRENCY = 10;

/** Items that failed validation come as errors already; the rest are enqueued, a failure touching only its own. */
export async function enqueueBatch(
  deps: ServiceDeps,
  queue: QueueDeps,
  items: readonly (BatchItem | Error)[],
  principal?: string,
): Promise<BatchOutcome[]> {
  const outcomes: BatchOutcome[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item === undefined) continue;
      if (item instanceof Error) {
        outcomes[index] = { index, ok: false, error: item };
        continue;
      }
      const { idempotencyKey, ...request } = item;
      try {
        const { job, created } = await enqueueJob(deps, queue, request, idempotencyKey, principal);
        outcomes[index] = { index, ok: true, created, job };
      } catch (error) {
        outcomes[index] = { index, ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, items.length) }, worker));
  return outcomes;
}
