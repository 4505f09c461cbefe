// POST /jobs/batch: up to BATCH_MAX_JOBS queued submissions, each validated on its own.
import * as z from 'zod';
import { idempotencyKeySchema, submitRequestSchema } from './api.ts';

export const BATCH_MAX_JOBS = 100;

/** One job of a batch: a queued POST /jobs body with its own Idempotency-Key (sync has no place in a queue). */
export const batchItemSchema = submitRequestSchema
  .omit({ sync: true, queue: true })
  .extend({ idempotencyKey: idempotencyKeySchema.optional() });
export type BatchItem = z.infer<typeof batchItemSchema>;

/** Items stay unknown here: a bad item is answered on its own line, it never refuses the whole batch. */
export const batchRequestSchema = z.strictObject({
  jobs: z.array(z.unknown()).min(1).max(BATCH_MAX_JOBS, `at most ${BATCH_MAX_JOBS} jobs per batch`),
});
