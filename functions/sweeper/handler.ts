// Lambda run by the schedule: one sweep pass, stopping before the invocation's own timeout.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { type SweepSummary, sweep } from '../core/sweep.ts';
import { getRuntime } from '../runtime.ts';

/** Without a Lambda context (a manual call), allow one minute. */
const DEFAULT_BUDGET_MS = 60_000;

export const handler = async (
  _event: ScheduledEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepSummary> => {
  const started = Date.now();
  const remainingMs = context?.getRemainingTimeInMillis
    ? () => context.getRemainingTimeInMillis()
    : () => DEFAULT_BUDGET_MS - (Date.now() - started);
  return sweep(getRuntime(), { remainingMs });
};
