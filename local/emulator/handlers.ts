// Built-in job handlers, picked by `input.handler` (or `input.kind`); each mimics one kind of real worker output.
import { makePng } from './png.ts';
import { mulberry32 } from './random.ts';

/** What a handler gets: the job input plus the means to wait, stream and link files like a real worker. */
export interface HandlerContext {
  readonly input: Record<string, unknown>;
  readonly jobId: string;
  readonly workerId: string;
  /** Retries so far (0 on the first run), so a handler can fail only on early attempts. */
  readonly attempt: number;
  /** Output seed: `input.seed` when it is an integer, else a hash of the input and the emulator seed. */
  readonly seed: number;
  /** The run time for this job: `input.durationMs` (or the handler's default) times the time scale. */
  readonly durationMs: number;
  /** Cap on generated output bytes. */
  readonly maxOutputBytes: number;
  /** Applies the emulator's time scale to a duration the input asked for. */
  scale(ms: number): number;
  /** Resolves after `ms`; rejects when the job is cancelled, timed out or expired meanwhile. */
  sleep(ms: number): Promise<void>;
  /** Publishes one chunk to `/stream`, like a generator handler's `yield`. */
  emit(output: unknown): void;
  /** A URL on the emulator's own server that serves a generated PNG, like a presigned bucket URL. */
  fileUrl(index: number, seed: number, width: number, height: number): string;
}

/** A finished run: COMPLETED (with `output`, or none at all when `hasOutput` is false) or FAILED. */
export type HandlerResult =
  | { kind: 'completed'; hasOutput: true; output: unknown }
  | { kind: 'completed'; hasOutput: false }
  | { kind: 'failed'; error: string };

export type JobHandler = (ctx: HandlerContext) => Promise<HandlerResult>;

const completed = (output: unknown): HandlerResult => ({ kind: 'completed', hasOutput: true, output });

const intInput = (input: Record<string, unknown>, key: string, fallback: number): number => {
  const value = input[key];
  return typeof value === 'number' && Number.isFinite(value) ? Math.floor(value) : fallback;
};

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

const promptOf = (input: Record<string, unknown>): string =>
  typeof input.prompt === 'string'
    ? input.prompt
    : input.prompt === undefined
      ? ''
      : JSON.stringify(input.prompt);

/** The error string runpod-python workers report: JSON inside a string. */
export function workerError(message: string, workerId: string, type = "<class 'RuntimeError'>"): string {
  return JSON.stringify({
    error_type: type,
    error_message: message,
    error_traceback: `Traceback (most recent call last):\n  File "/handler.py", line 42, in handler\n    raise RuntimeError(${JSON.stringify(message)})\nRuntimeError: ${message}\n`,
    hostname: workerId,
    worker_id: workerId,
    runpod_version: '1.7.9',
  });
}

const ALPHABET = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      \n');

/** `bytes` ASCII characters from `seed`: JSON needs no escaping for them except the newline, kept rare. */
export function deterministicText(bytes: number, seed: number): string {
  const rng = mulberry32(seed);
  const out = Buffer.alloc(Math.max(0, Math.floor(bytes)));
  const last = ALPHABET.length - 1;
  for (let i = 0; i < out.length; i++) {
    const pick = Math.floor(rng() * ALPHABET.length);
    // Newlines only where the draw lands on the last slot, never twice in a row, so text looks like lines.
    out[i] = ALPHABET[pick === last && i > 0 && out[i - 1] === 0x0a ? 0 : pick] ?? 0x61;
  }
  return out.toString('latin1');
}

const echo: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  return completed({ text: promptOf(ctx.input) });
};

const pngFor = (ctx: HandlerContext) =>
  makePng(intInput(ctx.input, 'width', 64), intInput(ctx.input, 'height', 64), ctx.seed);

const imageBase64: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  return completed({ image_base64: pngFor(ctx).toString('base64'), seed: ctx.seed });
};

const imageDataUri: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  return completed({ image: `data:image/png;base64,${pngFor(ctx).toString('base64')}`, seed: ctx.seed });
};

const imageUrl: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  const count = clamp(intInput(ctx.input, 'count', 1), 1, 16);
  const width = intInput(ctx.input, 'width', 64);
  const height = intInput(ctx.input, 'height', 64);
  const images = [];
  for (let i = 0; i < count; i++) {
    const seed = (ctx.seed + i) >>> 0;
    images.push({ image: ctx.fileUrl(i, seed, width, height), seed });
  }
  return completed(images);
};

const large: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  const bytes = clamp(intInput(ctx.input, 'bytes', 1024 * 1024), 0, ctx.maxOutputBytes);
  return completed({ text: deterministicText(bytes, ctx.seed), bytes, seed: ctx.seed });
};

const fail: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  const message = typeof ctx.input.message === 'string' ? ctx.input.message : 'emulated handler failure';
  return { kind: 'failed', error: workerError(message, ctx.workerId) };
};

/** Fails while `attempt < input.failTimes` (default 1), then echoes: the case /retry exists for. */
const flaky: JobHandler = async (ctx) => {
  if (ctx.attempt < intInput(ctx.input, 'failTimes', 1)) return fail(ctx);
  return echo(ctx);
};

/** A generator: `input.chunks` tokens (default 5) spread over the duration; the output aggregates them. */
const stream: JobHandler = async (ctx) => {
  const chunks = clamp(intInput(ctx.input, 'chunks', 5), 0, 10_000);
  const words = promptOf(ctx.input).split(/\s+/).filter(Boolean);
  const rng = mulberry32(ctx.seed);
  const interval =
    typeof ctx.input.intervalMs === 'number'
      ? ctx.scale(ctx.input.intervalMs)
      : ctx.durationMs / Math.max(1, chunks);
  const outputs: unknown[] = [];
  for (let i = 0; i < chunks; i++) {
    await ctx.sleep(interval);
    const token = words[i % Math.max(1, words.length)] ?? `tok${Math.floor(rng() * 1e6)}`;
    const output = { index: i, text: ` ${token}` };
    outputs.push(output);
    ctx.emit(output);
  }
  return completed(outputs);
};

const empty: JobHandler = async (ctx) => {
  await ctx.sleep(ctx.durationMs);
  return { kind: 'completed', hasOutput: false };
};

/** Built-in handlers by name; `slow` is echo with a long default duration (5 s times the time scale). */
export const BUILTIN_HANDLERS: Readonly<Record<string, JobHandler>> = {
  echo,
  slow: echo,
  'image-base64': imageBase64,
  'image-datauri': imageDataUri,
  'image-url': imageUrl,
  large,
  fail,
  flaky,
  stream,
  empty,
};

/** Handlers whose default duration differs from the emulator's `jobDurationMs`. */
export const DEFAULT_DURATION_MS: Readonly<Record<string, number>> = { slow: 5000 };

/** The handler name an input asks for: `input.handler`, else `input.kind`, else "echo"; `_` and `-` are equal. */
export function handlerName(input: Record<string, unknown>): string {
  const raw =
    typeof input.handler === 'string' ? input.handler : typeof input.kind === 'string' ? input.kind : 'echo';
  return raw.trim().toLowerCase().replaceAll('_', '-');
}
