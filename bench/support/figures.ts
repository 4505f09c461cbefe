// What a benchmark reports: a figure with its baseline from the same run, the ratio, and the goal it is held to.
import { significant } from './stats.ts';

/** A goal on the ratio (figure / baseline) or on the figure's own value. */
export interface Goal {
  on: 'ratio' | 'value';
  op: '>=' | '<=';
  target: number;
}

export interface Baseline {
  label: string;
  value: number;
  unit: string;
  /** Per-run values behind a median. */
  runs?: number[];
}

export interface Figure {
  /** Issue item 1..7. */
  item: number;
  /** Stable identifier, e.g. "capture.throughput.c8". */
  key: string;
  label: string;
  value: number;
  unit: string;
  runs?: number[];
  baseline?: Baseline;
  /** value / baseline.value. */
  ratio?: number;
  goal?: Goal;
  /** Whether the goal is met; absent without a goal. */
  pass?: boolean;
  note?: string;
}

export type FigureSpec = Omit<Figure, 'ratio' | 'pass'>;

/** Fills in the ratio and the pass flag, rounding for display (raw runs are kept as measured). */
export function figure(spec: FigureSpec): Figure {
  const ratio =
    spec.baseline && spec.baseline.value !== 0 && Number.isFinite(spec.baseline.value)
      ? spec.value / spec.baseline.value
      : undefined;
  const result: Figure = { ...spec, value: significant(spec.value, 4) };
  if (spec.baseline) result.baseline = { ...spec.baseline, value: significant(spec.baseline.value, 4) };
  if (ratio !== undefined) result.ratio = significant(ratio, 3);
  if (spec.goal) {
    const subject = spec.goal.on === 'ratio' ? ratio : spec.value;
    result.pass =
      subject !== undefined &&
      Number.isFinite(subject) &&
      (spec.goal.op === '>=' ? subject >= spec.goal.target : subject <= spec.goal.target);
  }
  return result;
}

export function goalText(goal: Goal | undefined): string {
  if (!goal) return '';
  return `${goal.on === 'ratio' ? 'ratio' : 'value'} ${goal.op === '>=' ? '≥' : '≤'} ${goal.target}`;
}
