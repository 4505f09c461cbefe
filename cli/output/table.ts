// Plain-text tables: columns padded to their widest cell, a rule under the header, numbers right-aligned.
import { oneLine } from './sanitize.ts';
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Returns the table's lines (no trailing newline); the last column is never padded. */
export function renderTable(columns: readonly Column[], given: readonly (readonly string[])[]): string[] {
  // Cells hold upstream text: escaped before measuring, so widths match what is printed.
  const rows = given.map((r) => r.map(oneLine));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(cell)));
        if (i === columns.length - 1 && c.align !== 'right') return cell;
        return c.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const total = widths.reduce((sum, w) => sum + w, 0) + 2 * (columns.length - 1);
  return [line(columns.map((c) => c.header)), '─'.repeat(total), ...rows.map(line)];
}

/** Display width in code points: good enough for ids, states, times and tags. */
function width(text: string): number {
  return [...text].length;
}
