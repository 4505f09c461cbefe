// Prints the figures as one table and writes them, with the machine and the date, to bench/results.json.
import { writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { type Figure, goalText } from './figures.ts';

export interface Results {
  date: string;
  command: string;
  quick: boolean;
  durationSeconds: number;
  machine: {
    cpuModel: string;
    cpus: number;
    memoryGiB: number;
    freeMemoryGiB: number;
    loadAverage: number[];
    node: string;
    platform: string;
    arch: string;
  };
  figures: Figure[];
  /** Per-benchmark detail that does not fit a figure (counts per command, parameters, ...). */
  details: Record<string, unknown>;
  errors: { benchmark: string; error: string }[];
}

export function machineInfo(): Results['machine'] {
  const cpuList = cpus();
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpus: cpuList.length,
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

const fmt = (value: number | undefined): string => {
  if (value === undefined || Number.isNaN(value)) return '';
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.01 || abs >= 1e6)) return value.toExponential(2);
  return String(Number(value.toPrecision(abs >= 1000 ? 5 : 3)));
};

const withUnit = (value: number | undefined, unit: string | undefined) =>
  value === undefined ? '' : `${fmt(value)}${unit ? ` ${unit}` : ''}`;

/** The table: one line per figure, the baseline beside it, the ratio, the goal and whether it is met. */
export function renderTable(figures: readonly Figure[]): string {
  const header = ['#', 'figure', 'value', 'baseline (same run)', 'ratio', 'goal', 'ok'];
  const rows = figures.map((f) => [
    String(f.item),
    f.label,
    withUnit(f.value, f.unit),
    f.baseline ? `${withUnit(f.baseline.value, f.baseline.unit)} (${f.baseline.label})` : '',
    fmt(f.ratio),
    goalText(f.goal),
    f.pass === undefined ? '' : f.pass ? 'yes' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export async function writeResults(path: string, results: Results): Promise<void> {
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
}
