// The sweeper's schedule as EventBridge runs it without reserved concurrency: a tick every period, running or not.
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createLambdaContext } from '../../local/gateway/index.ts';

export interface AwsSchedule {
  /** Stops ticking and waits for every invocation still running. */
  stop(): Promise<void>;
}

/**
 * Unlike local mode's schedule (one run at a time, as reserved concurrency 1 was), a tick that finds the last
 * invocation still running starts another: the sweep lease is what keeps them from sweeping at once, and the
 * newcomer takes over as soon as the other lets go, as it does in AWS.
 */
export function startAwsSchedule(options: {
  intervalMs: number;
  timeoutMs: number;
  handler: (event: ScheduledEvent, context: Context) => Promise<unknown>;
  onError: (error: unknown) => void;
}): AwsSchedule {
  const running = new Set<Promise<unknown>>();
  const tick = () => {
    const startedAt = Date.now();
    const context = createLambdaContext({ functionName: 'sweeper', timeoutMs: options.timeoutMs, startedAt });
    const event = {
      version: '0',
      id: String(startedAt),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date(startedAt).toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/sweeper-schedule'],
      detail: {},
    } as ScheduledEvent;
    const run = options.handler(event, context).catch(options.onError);
    running.add(run);
    void run.finally(() => running.delete(run));
  };
  // A sweeper resumed after a pause (a kill, a restart) is ticked at once: the schedule never stopped.
  tick();
  const timer = setInterval(tick, options.intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
