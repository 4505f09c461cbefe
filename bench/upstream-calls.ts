// Item 3: upstream status calls per captured job, webhooks working or all lost, beside an SDK polling client.
import type { LifecycleResult, Workload } from './lifecycle.ts';
import { type Figure, figure } from './support/figures.ts';
import { median } from './support/stats.ts';

const LABEL: Record<Workload, string> = { short: 'jobs 5–90 s', long: 'jobs 2.5–8 min' };
const GOALS = { ok: 0.05, lost: 3 } as const;

export function upstreamCallFigures(result: LifecycleResult): Figure[] {
  const figures: Figure[] = [];
  for (const workload of ['short', 'long'] as const) {
    const sdk = result.statusPerJob[`${workload}-sdk`] ?? [];
    for (const path of ['ok', 'lost'] as const) {
      const runs = result.statusPerJob[`${workload}-${path}`] ?? [];
      figures.push(
        figure({
          item: 3,
          key: `upstream.status.${workload}.${path === 'ok' ? 'webhooks' : 'noWebhooks'}`,
          label: `status calls/job, ${path === 'ok' ? 'webhooks working' : 'every webhook lost'}, ${LABEL[workload]}`,
          value: median(runs),
          unit: '',
          runs,
          baseline: { label: 'runpod-sdk polling client', value: median(sdk), unit: '', runs: sdk },
          goal: { on: 'value', op: '<=', target: GOALS[path] },
        }),
      );
    }
  }
  return figures;
}
