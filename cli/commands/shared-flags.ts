// Flags several commands share: --json, --wait with its poll interval, and --meta tags.
import {
  type FlagSpecs,
  listFlag,
  type ParsedValues,
  parseDuration,
  parseKeyValues,
  stringFlag,
} from '../args.ts';

export const JSON_FLAG: FlagSpecs = {
  json: { type: 'boolean', description: 'print the job as JSON on stdout' },
};

export const WAIT_FLAGS: FlagSpecs = {
  wait: {
    type: 'boolean',
    description: 'wait until the job is archived, expired or rejected (exit 6 unless upstream COMPLETED)',
  },
  'poll-interval': { type: 'string', value: 'DURATION', description: 'how often --wait asks (default 1s)' },
};

export const META_FLAG: FlagSpecs = {
  meta: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'metadata tag' },
};

export function pollIntervalMs(values: ParsedValues): number {
  const text = stringFlag(values, 'poll-interval');
  return text === undefined ? 1000 : Math.max(100, parseDuration(text, 'poll-interval'));
}

export function metadataOf(values: ParsedValues): Record<string, string> | undefined {
  const pairs = listFlag(values, 'meta');
  return pairs.length ? parseKeyValues(pairs, 'meta') : undefined;
}
