// Item 3: upstream status calls per captured job, webhooks working or all lost, beside an SDK polling client.
import type { LifecycleResult, Workload } from './lifecycle.ts';
import { type Figure, figure } from './support/figures.ts';
import { median } from './support/stats.ts';

const LABEL: Record<Workload, string> = { short: 'jobs 5–90 s', long: 'jobs 2.5–8 min' };
const GOALS = { ok: 0.05, lost: 3 } as const;

/**
 * With webhooks working, the calls are the sweeper's looks (goal ≤ 0.05: it need not look at a job whose
 * webhook comes) plus what verification adds (under `strict`, one confirming call per delivered result, item 8).
 * With every webhook lost there are only looks. Looks come from the audit trail; totals from the emulator.
 */
export function upstreamCallFigures(result: LifecycleResult): Figure[] {
  const figures: Figure[] = [];
  for (const workload of ['short', 'long'] as const) {
    const sdk = result.statusPerJob[`${workload}-sdk`] ?? [];
    const baseline = { label: 'runpod-sdk polling client', value: median(sdk), unit: '', runs: sdk };
    const looks = result.statusPerJob[`${workload}-ok-looks`] ?? [];
    figures.push(
      figure({
        item: 3,
        key: `upstream.looks.${workload}.webhooks`,
        label: `sweeper looks/job, webhooks working, ${LABEL[workload]}`,
        value: median(looks),
        unit: '',
        runs: looks,
        baseline,
        goal: { on: 'value', op: '<=', target: GOALS.ok },
      }),
    );
    for (const path of ['ok', 'lost'] as const) {
      const runs = result.statusPerJob[`${workload}-${path}`] ?? [];
      figures.push(
        figure({
          item: 3,
          key: `upstream.status.${workload}.${path === 'ok' ? 'webhooks' : 'noWebhooks'}`,
          label:
            path === 'ok'
              ? `status calls/job, webhooks working (looks + strict's confirming call), ${LABEL[workload]}`
              : `status calls/job, every webhook lost, ${LABEL[workload]}`,
          value: median(runs),
          unit: '',
          runs,
          baseline,
          ...(path === 'lost' && { goal: { on: 'value' as const, op: '<=' as const, target: GOALS.lost } }),
        }),
      );
    }
  }
  return figures;
}
