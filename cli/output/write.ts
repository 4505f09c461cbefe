// Writing to stdout/stderr with backpressure, so a streamed export never buffers the whole archive in memory.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { sanitize } from './sanitize.ts';

/** Every text the CLI prints goes through sanitize(): no upstream text can drive the terminal. */
export async function write(stream: Writable, text: string | Uint8Array): Promise<void> {
  if (!stream.write(typeof text === 'string' ? sanitize(text) : text)) await once(stream, 'drain');
}

export async function writeLine(stream: Writable, line = ''): Promise<void> {
  await write(stream, `${line}\n`);
}

/** Messages for people (stderr): never awaited, never in the way of data on stdout. */
export function say(stream: Writable, line: string): void {
  stream.write(`${sanitize(line)}\n`);
}
