// A local EventBridge schedule: invokes a scheduled-event handler on a timer, one run at a time.
import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createLambdaContext } from './context.ts';
import { invokeWithTimeout } from './invoke.ts';

export type LocalScheduledEvent = ScheduledEvent<Record<string, never>>;
/** A rule target with a constant input receives that input instead of the scheduled event, as in EventBridge. */
export type ScheduledHandler<R = unknown> = (
  event: LocalScheduledEvent | Record<string, unknown>,
  context: Context,
) => Promise<R>;

export interface ScheduleOptions<R> {
  intervalMs: number;
  handler: ScheduledHandler<R>;
  /** The function's timeout: getRemainingTimeInMillis counts down from it. Default 60 s. */
  timeoutMs?: number;
  /** Default 'scheduled'. */
  functionName?: string;
  /** Rule name in the event's resources ARN. Default `${functionName}-schedule`. */
  ruleName?: string;
  /** Default 'us-east-1'. */
  region?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** Run once right away instead of waiting a first interval. Default false. */
  runOnStart?: boolean;
  /** Timer runs' failures (runNow rejects instead). Default console.error. */
  onError?: (error: unknown) => void;
  /** The target's constant input: delivered as the event instead of the scheduled event. */
  input?: Record<string, unknown>;
}

export interface Schedule<R> {
  /** Runs now, after any in-flight run (never overlapping); resolves with the handler's result. */
  runNow(): Promise<R>;
  /** Stops the timer and waits for an in-flight run to finish. */
  stop(): Promise<void>;
  /** Runs finished so far (timer and runNow). */
  readonly runs: number;
  /** Timer ticks dropped because a run was still going (a throttled invoke under concurrency 1). */
  readonly skipped: number;
}

export function startSchedule<R>(options: ScheduleOptions<R>): Schedule<R> {
  const {
    intervalMs,
    handler,
    timeoutMs = 60_000,
    functionName = 'scheduled',
    region = 'us-east-1',
    accountId = '000000000000',
    runOnStart = false,
    onError = (error: unknown) => console.error(`[schedule] ${functionName} failed:`, error),
  } = options;
  if (!(intervalMs > 0)) throw new Error('intervalMs must be positive');
  const ruleArn = `arn:aws:events:${region}:${accountId}:rule/${options.ruleName ?? `${functionName}-schedule`}`;

  let chain: Promise<unknown> = Promise.resolve();
  let pending = 0;
  let runs = 0;
  let skipped = 0;
  let stopped = false;

  async function invokeOnce(): Promise<R> {
    const startedAt = Date.now();
    const event: LocalScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: accountId,
      // EventBridge writes whole seconds: 2015-10-08T16:53:06Z.
      time: new Date(startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [ruleArn],
      detail: {},
    };
    const context = createLambdaContext({ functionName, timeoutMs, region, accountId, startedAt });
    const work = Promise.resolve().then(() => handler(options.input ?? event, context));
    const outcome = await invokeWithTimeout(() => work, timeoutMs);
    if (outcome.status === 'timeout') {
      // Lambda would kill the run here; locally it cannot be killed, so wait it out before the next one may
      // start: overlapping runs are what concurrency 1 rules out.
      await work.catch(() => undefined);
      throw new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
    }
    if (outcome.status === 'error') throw outcome.error;
    return outcome.value;
  }

  function enqueue(): Promise<R> {
    pending++;
    const run = chain.then(invokeOnce).finally(() => {
      pending--;
      runs++;
    });
    chain = run.catch(() => undefined);
    return run;
  }

  const tick = () => {
    if (stopped) return;
    if (pending > 0) {
      skipped++;
      return;
    }
    enqueue().catch(onError);
  };
  const timer = setInterval(tick, intervalMs);
  if (runOnStart) tick();

  return {
    runNow: () => (stopped ? Promise.reject(new Error('schedule stopped')) : enqueue()),
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await chain;
    },
    get runs() {
      return runs;
    },
    get skipped() {
      return skipped;
    },
  };
}

/** Several schedules as one: `runNow` runs each once, side by side, and merges their results. */
export function allSchedules<R, M = R[]>(
  schedules: readonly Schedule<R>[],
  merge: (results: R[]) => M = (results) => results as M,
): Schedule<M> {
  return {
    runNow: async () => merge(await Promise.all(schedules.map((s) => s.runNow()))),
    stop: async () => {
      await Promise.all(schedules.map((s) => s.stop()));
    },
    get runs() {
      return schedules.reduce((n, s) => n + s.runs, 0);
    },
    get skipped() {
      return schedules.reduce((n, s) => n + s.skipped, 0);
    },
  };
}
