// Lambda run by the schedule: sweeps under the sweep lease while jobs come due, stopping before its own timeout.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { type InvocationSummary, sweepInvocation } from '../core/sweep-invocation.ts';
import { getRuntime } from '../runtime.ts';

/** Without a Lambda context (a manual call), allow one minute. */
const DEFAULT_BUDGET_MS = 60_000;

export const handler = async (
  _event: ScheduledEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<InvocationSummary> => {
  const started = Date.now();
  const remainingMs = context?.getRemainingTimeInMillis
    ? () => context.getRemainingTimeInMillis()
    : () => DEFAULT_BUDGET_MS - (Date.now() - started);
  const runtime = getRuntime();
  return sweepInvocation(runtime, runtime.sweepLease, { remainingMs });
};
