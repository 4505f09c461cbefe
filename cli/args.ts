// Command-line parsing on node:util parseArgs: the global flags every command takes, and typed value parsers.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.ts';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** One flag as commands declare it: parseArgs' own spec plus what help prints. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help as `--name VALUE`. */
  value?: string;
  description: string;
}
export type FlagSpecs = Record<string, FlagSpec>;

/** Flags every command accepts, before or after the command name. */
export const GLOBAL_FLAGS: FlagSpecs = {
  api: {
    type: 'string',
    value: 'URL',
    description: 'API base URL (env ARCHIVER_API_URL; default http://127.0.0.1:8787)',
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'bearer token (env ARCHIVER_TOKEN), for a local stack that requires one',
  },
  sigv4: { type: 'boolean', description: 'sign requests with SigV4 (automatic for *.amazonaws.com)' },
  region: {
    type: 'string',
    value: 'REGION',
    description: 'SigV4 region (default: from the host, else AWS_REGION)',
  },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface ParsedArgs {
  values: ParsedValues;
  positionals: string[];
}

/** Parses argv against the command's flags plus the global ones; parseArgs' errors become usage errors. */
export function parseCommandArgs(argv: readonly string[], flags: FlagSpecs): ParsedArgs {
  const options: OptionSpecs = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_FLAGS, ...flags })) {
    options[name] = {
      type: spec.type,
      ...(spec.short !== undefined && { short: spec.short }),
      ...(spec.multiple !== undefined && { multiple: spec.multiple }),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? cleanParseError(err.message) : String(err));
  }
}

/** parseArgs explains `--foo` mistakes verbosely; keep its first sentence. */
function cleanParseError(message: string): string {
  const first = message.split('. ')[0] ?? message;
  return first.replace(/^Unknown option '(.+)'$/, 'unknown option $1').replace(/\.$/, '');
}

export function stringFlag(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function boolFlag(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

export function listFlag(values: ParsedValues, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/** `key=value` pairs (the value may itself contain `=`); later keys win, as with repeated flags. */
export function parseKeyValues(pairs: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) out[keyOf(pair, flag)] = pair.slice(pair.indexOf('=') + 1);
  return out;
}

function keyOf(pair: string, flag: string): string {
  const at = pair.indexOf('=');
  if (at <= 0) throw new UsageError(`--${flag} wants key=value, got "${pair}"`);
  return pair.slice(0, at);
}

/** Checks a single `key=value` and returns it unchanged (the API parses it). */
export function keyValue(pair: string, flag: string): string {
  keyOf(pair, flag);
  return pair;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `10m`, `24h`, `7d`, or a bare number of milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match?.[1])
    throw new UsageError(`--${flag}: "${text}" is not a duration (e.g. 500ms, 30s, 10m, 24h, 7d)`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1));
}

/** A whole number within bounds. */
export function parseIntFlag(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max)
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

/**
 * A point in time: an ISO date-time, a date (`2026-11-29`, UTC midnight), `now`, or an age (`90m`, `24h`,
 * `7d`) meaning that long before `nowMs`. Returns an ISO string, the form the API wants.
 */
export function parseTime(text: string, flag: string, nowMs: number): string {
  const t = text.trim();
  if (t === 'now') return new Date(nowMs).toISOString();
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d)$/.test(t)) return new Date(nowMs - parseDuration(t, flag)).toISOString();
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
  // Date.parse accepts many loose forms; insist on ISO so "3/4" never means something surprising.
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(iso)
    ? Date.parse(iso)
    : Number.NaN;
  if (Number.isNaN(ms))
    throw new UsageError(
      `--${flag}: "${text}" is not a time (ISO 8601, YYYY-MM-DD, now, or an age like 24h or 7d)`,
    );
  return new Date(ms).toISOString();
}

/** Our job ids are ULIDs: case-insensitive, so accept what people paste and send the canonical form. */
export function jobIdArg(positionals: readonly string[], usage: string): string {
  const id = positionals[0];
  if (id === undefined) throw new UsageError('missing job id', [`usage: ${usage}`]);
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument "${positionals[1]}"`, [`usage: ${usage}`]);
  return id.toUpperCase();
}

/** Commands that take no (or at most `max`) positional arguments say so instead of ignoring them. */
export function noExtraArgs(positionals: readonly string[], max: number, usage: string): void {
  if (positionals.length > max)
    throw new UsageError(`unexpected argument "${positionals[max]}"`, [`usage: ${usage}`]);
}
