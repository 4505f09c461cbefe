// POST /jobs/batch: up to BATCH_MAX_JOBS queued submissions, each validated on its own (batchItemSchema, api.ts).
import * as z from 'zod/mini';
import './english-messages.ts';

export { type BatchItem, batchItemSchema } from './api.ts';

export const BATCH_MAX_JOBS = 100;

/** Items stay unknown here: a bad item is answered on its own line, it never refuses the whole batch. */
export const batchRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    jobs: z
      .array(z.unknown())
      .check(z.minLength(1), z.maxLength(BATCH_MAX_JOBS, `at most ${BATCH_MAX_JOBS} jobs per batch`)),
  }),
);
