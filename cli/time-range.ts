// The listing window every paging command sends: explicit from/to, because the API binds cursors to them.
import { type ParsedValues, parseTime, stringFlag } from './args.ts';
import { UsageError } from './errors.ts';

const DAY_MS = 86_400_000;
/** The API's own default window, made explicit. */
const DEFAULT_RANGE_MS = 30 * DAY_MS;

export interface TimeRange {
  from: string;
  to: string;
}

export const TIME_RANGE_FLAGS = {
  from: {
    type: 'string',
    value: 'TIME',
    description:
      'oldest creation time: ISO 8601, YYYY-MM-DD, or an age like 24h, 7d (default: 30 days before --to)',
  },
  to: { type: 'string', value: 'TIME', description: 'newest creation time (default: now)' },
} as const;

/**
 * Left to itself the API takes "to" as its own clock at each request, so page two of a listing would belong
 * to another query and its cursor would be refused: resolve both ends once, here.
 */
export function resolveTimeRange(values: ParsedValues, nowMs: number): TimeRange {
  const toText = stringFlag(values, 'to');
  const to = toText === undefined ? new Date(nowMs).toISOString() : parseTime(toText, 'to', nowMs);
  const fromText = stringFlag(values, 'from');
  const from =
    fromText === undefined
      ? new Date(Date.parse(to) - DEFAULT_RANGE_MS).toISOString()
      : parseTime(fromText, 'from', nowMs);
  if (Date.parse(from) > Date.parse(to)) throw new UsageError(`--from (${from}) is after --to (${to})`);
  return { from, to };
}
