// The answer to POST /jobs/batch: 207-style per-item results, in the order the items came.
import type { BatchOutcome } from '../core/enqueue-batch.ts';
import { ArchiverError } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import { publicJob } from '../core/results.ts';
import { type HttpResult, json, statusOf } from './responses.ts';

/**
 * 202 when every item was accepted (or replayed), 207 when some were not: a client resends only the lines
 * whose status is not 2xx, with the same idempotency keys, and never duplicates the others.
 */
export function batchAnswer(outcomes: readonly BatchOutcome[], logger: Logger): HttpResult {
  const results = outcomes.map((outcome) => {
    if (outcome.ok)
      return {
        index: outcome.index,
        status: outcome.created ? 202 : 200,
        job: publicJob(outcome.job),
        ...(!outcome.created && { replayed: true }),
      };
    const { error } = outcome;
    if (error instanceof ArchiverError)
      return {
        index: outcome.index,
        status: statusOf(error),
        error: { code: error.code, message: error.message, details: error.details ?? {} },
      };
    logger.error('batch item failed', { index: outcome.index, error: String(error) });
    return { index: outcome.index, status: 500, error: { code: 'INTERNAL', message: 'Internal error' } };
  });
  const accepted = results.filter((r) => r.status < 300).length;
  return json(accepted === results.length ? 202 : 207, {
    accepted,
    failed: results.length - accepted,
    results,
  });
}
