// Lambda run by the schedule: sweeps under the sweep lease while jobs come due, stopping before its own timeout.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { jobEvents } from '../composition/event-parts.ts';
import { functionRuntime } from '../composition/function-runtime.ts';
import { inInvocation } from '../composition/invocation.ts';
import { queueParts } from '../composition/queue-parts.ts';
import { webhookSecret } from '../composition/secret-parts.ts';
import { dynamoJobs, dynamoSweepLease, s3Archive } from '../composition/storage-parts.ts';
import { upstream, urlFetcher } from '../composition/upstream-parts.ts';
import { type InvocationSummary, sweepEveryGroup, sweepInvocation } from '../core/sweep-invocation.ts';

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
  // Signs the callback of a job it sends for requests that left it unsent (core/submit.ts sendRecorded).
  webhookSecret,
});

/**
 * The schedule of one group sends `{group}` as its input (lib/constructs/sweeper-schedule.ts); an event without
 * one (a manual call, a plain scheduled event) sweeps every group at once, each under its own lease.
 */
export type SweeperEvent = ScheduledEvent | { group?: string };

export const handler = async (
  event: SweeperEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'> &
    Partial<Pick<Context, 'awsRequestId' | 'functionName'>>,
): Promise<InvocationSummary> => {
  const group = (event as { group?: unknown } | undefined)?.group;
  if (group !== undefined && typeof group !== 'string') throw new TypeError('event.group must be a string');
  const started = Date.now();
  const remainingMs = context?.getRemainingTimeInMillis
    ? () => context.getRemainingTimeInMillis()
    : () => DEFAULT_BUDGET_MS - (Date.now() - started);
  const queue = queueParts(getRuntime().config);
  return inInvocation(getRuntime(), context, { sweepGroup: group }, (runtime) =>
    group === undefined
      ? sweepEveryGroup(runtime, runtime.sweepLease, { remainingMs, queue })
      : sweepInvocation(runtime, runtime.sweepLease, { remainingMs, group, queue }),
  );
};
