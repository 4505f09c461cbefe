// The filters of list, export and reconcile as flags, as a GET /jobs query, and back as flags for "continue" hints.
import type { ListQuery } from './api/schemas.ts';
import { keyValue, type ParsedValues, stringFlag } from './args.ts';
import { resolveTimeRange, TIME_RANGE_FLAGS } from './time-range.ts';

export const FILTER_FLAGS = {
  ...TIME_RANGE_FLAGS,
  state: {
    type: 'string',
    value: 'STATE',
    description: 'QUEUED, SUBMITTING, PENDING, ARCHIVED, EXPIRED or REJECTED',
  },
  endpoint: { type: 'string', value: 'NAME', description: 'only jobs of this endpoint' },
  tag: { type: 'string', value: 'KEY=VALUE', description: 'only jobs with this metadata tag' },
  principal: {
    type: 'string',
    value: 'ARN',
    description: 'only jobs submitted or tracked by this IAM principal (the ARN "submitted by" shows)',
  },
} as const;

/** The filters of list and export; from/to resolved once so every page is the same query. */
export function listQueryOf(values: ParsedValues, nowMs: number): ListQuery {
  const range = resolveTimeRange(values, nowMs);
  const state = stringFlag(values, 'state');
  const endpoint = stringFlag(values, 'endpoint');
  const tag = stringFlag(values, 'tag');
  const principal = stringFlag(values, 'principal');
  return {
    ...range,
    ...(state !== undefined && { state: state.toUpperCase() }),
    ...(endpoint !== undefined && { endpoint }),
    ...(tag !== undefined && { tag: keyValue(tag, 'tag') }),
    ...(principal !== undefined && { principal }),
  };
}

/**
 * The global flags a "continue with" hint must repeat so that it reaches the same API the same way
 * (environment variables carry over by themselves). A token given as a flag is never echoed.
 */
export function connectionFlags(values: ParsedValues): string {
  const parts: string[] = [];
  const api = stringFlag(values, 'api');
  if (api !== undefined) parts.push(`--api ${shellQuote(api)}`);
  if (values.sigv4 === true) parts.push('--sigv4');
  const region = stringFlag(values, 'region');
  if (region !== undefined) parts.push(`--region ${shellQuote(region)}`);
  if (stringFlag(values, 'token') !== undefined) parts.push("--token '<your token>'");
  return parts.map((p) => `${p} `).join('');
}

/** The flags that reproduce a query, for "continue with" hints. */
export function queryFlags(query: ListQuery): string {
  const parts = [`--from ${query.from}`, `--to ${query.to}`];
  if (query.state) parts.push(`--state ${query.state}`);
  if (query.endpoint) parts.push(`--endpoint ${query.endpoint}`);
  if (query.tag) parts.push(`--tag ${shellQuote(query.tag)}`);
  if (query.principal) parts.push(`--principal ${shellQuote(query.principal)}`);
  return parts.join(' ');
}

export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_.:=/@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
