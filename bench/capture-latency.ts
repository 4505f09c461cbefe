// Item 6: job completion upstream to ARCHIVED, p50 and p99, by webhook and by sweeper.
import { type LifecycleResult, TIME_SCALE } from './lifecycle.ts';
import { type Figure, figure } from './support/figures.ts';
import { median, percentile } from './support/stats.ts';

/**
 * The longest a finished job can wait for a look under the AWS defaults: look interval (jitter only brings
 * looks earlier) + the wait for a pass. One pass per scheduled tick waits up to the schedule's minute; an invocation that sweeps on
 * while jobs come due waits up to its repeat pause (3 s), plus the gap between invocations (10 s of 60)
 * for a job due in it.
 */
const SCHEDULE_BOUND_S = 1500 + 60;
const SWEEP_ON_BOUND_S = 1500 + 10;

/** `single-pass`: the sweeper as it was (one pass per tick), the before of the same figure. */
export function captureLatencyFigures(result: LifecycleResult, variant?: 'single-pass'): Figure[] {
  const latency = (path: 'probe' | 'lost', source: string) =>
    result.observed
      .filter((o) => o.path === path && o.captureSource === source)
      .map((o) => ({ run: o.run, ms: o.capturedAt - o.finishedAt }))
      .filter((o) => Number.isFinite(o.ms));
  const webhook = latency('probe', 'webhook');
  const sweeper = latency('lost', 'sweeper');
  const perRun = (samples: { run: number; ms: number }[], p: number, scale = 1) =>
    Array.from({ length: result.runs }, (_, run) =>
      percentile(
        samples.filter((s) => s.run === run).map((s) => s.ms),
        p,
      ),
    ).map((v) => (v * scale) / 1000);
  const raw = median(result.rawStorageMs);
  const toAws = TIME_SCALE / 1000;
  const all = (samples: { ms: number }[], p: number) =>
    percentile(
      samples.map((s) => s.ms),
      p,
    );
  const sweeperFigures = [50, 99].map((p) =>
    figure({
      item: 6,
      key: `latency.sweeper.p${p}${variant ? `.${variant}` : ''}`,
      label: `completion → ARCHIVED p${p}, sweeper (AWS time${variant ? ', one pass per tick, before' : ''})`,
      value: all(sweeper, p) * toAws,
      unit: 's',
      ...(p === 50 && { runs: perRun(sweeper, 50, TIME_SCALE) }),
      baseline: variant
        ? { label: 'schedule bound 25 min + 1 min', value: SCHEDULE_BOUND_S, unit: 's' }
        : { label: 'bound 25 min + 10 s (sweeping on)', value: SWEEP_ON_BOUND_S, unit: 's' },
      note: `measured at 1/${TIME_SCALE} time scale, shown in AWS-default time`,
    }),
  );
  if (variant) return sweeperFigures;
  return [
    figure({
      item: 6,
      key: 'latency.webhook.p50',
      label: 'completion → ARCHIVED p50, webhook (light load)',
      value: all(webhook, 50),
      unit: 'ms',
      runs: perRun(webhook, 50).map((s) => s * 1000),
      baseline: { label: 'raw S3 put + DynamoDB update', value: raw, unit: 'ms', runs: result.rawStorageMs },
    }),
    figure({
      item: 6,
      key: 'latency.webhook.p99',
      label: 'completion → ARCHIVED p99, webhook (light load)',
      value: all(webhook, 99),
      unit: 'ms',
      baseline: { label: 'raw S3 put + DynamoDB update', value: raw, unit: 'ms' },
    }),
    ...sweeperFigures,
  ];
}
