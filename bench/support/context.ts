// What every benchmark gets from the runner, and what it gives back.
import type { Figure } from './figures.ts';
import type { BenchStores } from './stores.ts';

export interface BenchContext {
  /** `--quick`: fewer jobs and runs, for a smoke test. */
  quick: boolean;
  /** Repetitions behind each median (at least 5 in a full run). */
  runs: number;
  stores: BenchStores;
  log(message: string): void;
  /** Free-form detail for results.json, keyed by benchmark. */
  detail(key: string, value: unknown): void;
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}
