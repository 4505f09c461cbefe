// Local mode's sweeper schedules: one timer per group of due shards, as the stack has one rule per group.
import { sweepGroupNames } from '../functions/core/sweep-groups.ts';
import { combinedSummary, type InvocationSummary } from '../functions/core/sweep-invocation.ts';
import { handler as sweeperHandler } from '../functions/sweeper/handler.ts';
import { allSchedules, type Schedule, startSchedule } from './gateway/index.ts';

export interface SweeperSchedulesOptions {
  groups: number;
  intervalMs: number;
  onError: (error: unknown) => void;
}

/**
 * Each group's timer runs its own sweeps one at a time and sends `{group}` like its EventBridge rule, so the
 * groups sweep side by side and none waits for another's backlog. `runNow` runs every group once.
 */
export function startSweeperSchedules(options: SweeperSchedulesOptions): Schedule<InvocationSummary> {
  const schedules = sweepGroupNames(options.groups).map((group) =>
    startSchedule<InvocationSummary>({
      intervalMs: options.intervalMs,
      handler: (event, context) => sweeperHandler(event, context),
      input: { group },
      timeoutMs: 60_000,
      functionName: 'sweeper',
      ruleName: `sweeper-schedule-${group}`,
      onError: options.onError,
    }),
  );
  return allSchedules(schedules, combinedSummary);
}
