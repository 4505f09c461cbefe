// Progress on stderr: a redrawn bar or status line on a terminal, plain lines (only when something changes) otherwise.
import type { OutStream } from '../context.ts';
import { sanitize } from './sanitize.ts';

const CLEAR_LINE = '\r\x1b[2K';
const REDRAW_MS = 100;

export interface ProgressBar {
  /** `done` of the bar's total (bytes, or any unit), with a short note after the bar. */
  update(done: number, note?: string): void;
  /** A line that stays (a finished file): above the bar on a terminal, plain otherwise. */
  log(line: string): void;
  /** Removes the bar; the cursor is left at the start of an empty line. */
  finish(): void;
}

/** `[██████░░░░]  62%  note`: the bar alone, for tests and for both progress kinds. */
export function renderBar(done: number, total: number, width = 24): string {
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(fraction * width);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${percent}`;
}

export function createProgressBar(stream: OutStream, total: number): ProgressBar {
  const tty = stream.isTTY === true;
  let shown = '';
  let lastDraw = 0;
  const draw = (text: string, force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    shown = text;
    stream.write(`${CLEAR_LINE}${fitWidth(sanitize(text), stream.columns)}`);
  };
  return {
    update(done, note) {
      if (tty) draw(`${renderBar(done, total)}${note ? `  ${note}` : ''}`, done >= total);
    },
    log(line) {
      if (!tty) {
        stream.write(`${sanitize(line)}\n`);
        return;
      }
      stream.write(`${CLEAR_LINE}${sanitize(line)}\n`);
      if (shown) draw(shown, true);
    },
    finish() {
      if (tty && shown) stream.write(CLEAR_LINE);
      shown = '';
    },
  };
}

export interface StatusLine {
  /** The current status; off a terminal it is printed only when `key` (default: the text) changes. */
  set(text: string, key?: string): void;
  finish(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createStatusLine(stream: OutStream): StatusLine {
  const tty = stream.isTTY === true;
  let frame = 0;
  let lastKey: string | undefined;
  let drawn = false;
  return {
    set(text, key = text) {
      if (tty) {
        stream.write(
          `${CLEAR_LINE}${fitWidth(`${SPINNER[frame++ % SPINNER.length]} ${sanitize(text)}`, stream.columns)}`,
        );
        drawn = true;
        return;
      }
      if (key !== lastKey) stream.write(`${sanitize(text)}\n`);
      lastKey = key;
    },
    finish() {
      if (tty && drawn) stream.write(CLEAR_LINE);
      drawn = false;
    },
  };
}

/** Never wrap: a wrapped line cannot be redrawn in place. */
function fitWidth(text: string, columns: number | undefined): string {
  // Some terminals (and `script`) report 0 columns: assume a common width then.
  const max = (columns !== undefined && columns >= 20 ? columns : 100) - 1;
  return text.length > max ? text.slice(0, Math.max(0, max)) : text;
}
