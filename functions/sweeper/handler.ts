// Lambda run by the schedule: sweeps under the sweep lease while jobs come due, stopping before its own timeout.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { jobEvents } from '../composition/event-parts.ts';
import { functionRuntime } from '../composition/function-runtime.ts';
import { queueParts } from '../composition/queue-parts.ts';
import { dynamoJobs, dynamoSweepLease, s3Archive } from '../composition/storage-parts.ts';
import { upstream, urlFetcher } from '../composition/upstream-parts.ts';
import { type InvocationSummary, sweepInvocation } from '../core/sweep-invocation.ts';

/** Without a Lambda context (a manual call), allow one minute. */
const DEFAULT_BUDGET_MS = 60_000;

/** Only what this function uses, each built on first use (docs/architecture.md "The deployed shape"). */
const getRuntime = functionRuntime('sweeper', {
  jobs: dynamoJobs,
  archive: s3Archive,
  upstream,
  events: jobEvents,
  urlFetcher,
  sweepLease: dynamoSweepLease,
});

export const handler = async (
  _event: ScheduledEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<InvocationSummary> => {
  const started = Date.now();
  const remainingMs = context?.getRemainingTimeInMillis
    ? () => context.getRemainingTimeInMillis()
    : () => DEFAULT_BUDGET_MS - (Date.now() - started);
  const runtime = getRuntime();
  return sweepInvocation(runtime, runtime.sweepLease, { remainingMs, queue: queueParts(runtime.config) });
};
