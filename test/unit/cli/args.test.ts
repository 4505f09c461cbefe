// Argument parsing of the CLI: flags, key=value pairs, durations, times, the API URL and the auth choice.
import { describe, expect, it } from 'vitest';
import {
  jobIdArg,
  parseCommandArgs,
  parseDuration,
  parseIntFlag,
  parseKeyValues,
  parseTime,
} from '../../../cli/args.ts';
import { UsageError } from '../../../cli/errors.ts';
import { regionFromHost, resolveApiUrl, resolveAuth } from '../../../cli/http/auth.ts';
import { resolveTimeRange } from '../../../cli/time-range.ts';

const NOW = Date.parse('2026-11-29T12:00:00.000Z');

describe('parseCommandArgs', () => {
  const flags = {
    meta: { type: 'string', multiple: true, description: '' },
    wait: { type: 'boolean', description: '' },
  } as const;

  it('takes command flags, global flags anywhere, and repeated flags', () => {
    const { values, positionals } = parseCommandArgs(
      ['--meta', 'a=1', 'X1', '--api', 'http://h:1', '--meta=b=2', '--wait', '-h'],
      flags,
    );
    expect(values).toMatchObject({ meta: ['a=1', 'b=2'], api: 'http://h:1', wait: true, help: true });
    expect(positionals).toEqual(['X1']);
  });

  it('refuses unknown flags and missing values as usage errors', () => {
    expect(() => parseCommandArgs(['--colour'], flags)).toThrow(UsageError);
    expect(() => parseCommandArgs(['--colour'], flags)).toThrow(/unknown option --colour/);
    expect(() => parseCommandArgs(['--api'], flags)).toThrow(UsageError);
  });
});

describe('value parsers', () => {
  it('parses key=value pairs, keeping "=" inside values', () => {
    expect(parseKeyValues(['team=vision', 'q=a=b', 'team=ml'], 'meta')).toEqual({ team: 'ml', q: 'a=b' });
    expect(() => parseKeyValues(['novalue'], 'meta')).toThrow(/--meta wants key=value/);
    expect(() => parseKeyValues(['=x'], 'meta')).toThrow(UsageError);
  });

  it('parses durations with units or as milliseconds', () => {
    expect(parseDuration('500', 'x')).toBe(500);
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('1.5m', 'x')).toBe(90_000);
    expect(parseDuration('24h', 'x')).toBe(86_400_000);
    expect(parseDuration('7d', 'x')).toBe(604_800_000);
    expect(() => parseDuration('soon', 'policy-ttl')).toThrow(/--policy-ttl: "soon" is not a duration/);
  });

  it('parses times: ISO, dates, now and ages', () => {
    expect(parseTime('2026-11-01', 'from', NOW)).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('2026-11-01T10:00:00+02:00', 'from', NOW)).toBe('2026-11-01T08:00:00.000Z');
    expect(parseTime('now', 'to', NOW)).toBe('2026-11-29T12:00:00.000Z');
    expect(parseTime('24h', 'from', NOW)).toBe('2026-11-28T12:00:00.000Z');
    expect(parseTime('7d', 'from', NOW)).toBe('2026-11-22T12:00:00.000Z');
    expect(() => parseTime('3/4', 'from', NOW)).toThrow(UsageError);
    expect(() => parseTime('yesterday', 'from', NOW)).toThrow(/--from/);
  });

  it('parses bounded integers', () => {
    expect(parseIntFlag('25', 'limit', 1, 100)).toBe(25);
    expect(() => parseIntFlag('0', 'limit', 1, 100)).toThrow(/from 1 to 100/);
    expect(() => parseIntFlag('2.5', 'limit', 1, 100)).toThrow(UsageError);
  });

  it('upper-cases job ids and wants exactly one', () => {
    expect(jobIdArg(['01m8mbk7czysbnnnq4wa2p5v5x'], 'get <jobId>')).toBe('01M8MBK7CZYSBNNNQ4WA2P5V5X');
    expect(() => jobIdArg([], 'get <jobId>')).toThrow(/missing job id/);
    expect(() => jobIdArg(['a', 'b'], 'get <jobId>')).toThrow(/unexpected argument "b"/);
  });
});

describe('resolveTimeRange', () => {
  it('makes both ends explicit, 30 days back by default', () => {
    expect(resolveTimeRange({}, NOW)).toEqual({
      from: '2026-10-30T12:00:00.000Z',
      to: '2026-11-29T12:00:00.000Z',
    });
    expect(resolveTimeRange({ from: '2026-11-01', to: '2026-11-02' }, NOW)).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-02T00:00:00.000Z',
    });
    expect(() => resolveTimeRange({ from: '2026-11-03', to: '2026-11-02' }, NOW)).toThrow(/after --to/);
  });
});

describe('API URL and auth', () => {
  const url = (text: string) => new URL(text);

  it('takes --api, then ARCHIVER_API_URL, then the local default', () => {
    expect(resolveApiUrl(undefined, {}).href).toBe('http://127.0.0.1:8787/');
    expect(resolveApiUrl(undefined, { ARCHIVER_API_URL: 'http://10.0.0.1:9000' }).host).toBe('10.0.0.1:9000');
    expect(resolveApiUrl('https://a.b', { ARCHIVER_API_URL: 'http://x' }).host).toBe('a.b');
    expect(() => resolveApiUrl('not a url', {})).toThrow(UsageError);
    expect(() => resolveApiUrl('ftp://x', {})).toThrow(/http or https/);
  });

  it('reads the region from an execute-api host', () => {
    expect(regionFromHost('a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionFromHost('api.example.com')).toBeUndefined();
  });

  it('chooses none, bearer or SigV4', () => {
    const local = url('http://127.0.0.1:8787');
    const aws = url('https://abc.execute-api.ap-south-1.amazonaws.com');
    expect(resolveAuth({ apiUrl: local, sigv4: false, env: {} })).toEqual({ kind: 'none' });
    expect(resolveAuth({ apiUrl: local, sigv4: false, token: 't0k', env: {} })).toEqual({
      kind: 'bearer',
      token: 't0k',
    });
    expect(resolveAuth({ apiUrl: aws, sigv4: false, env: {} })).toEqual({
      kind: 'sigv4',
      region: 'ap-south-1',
      service: 'execute-api',
    });
    expect(resolveAuth({ apiUrl: local, sigv4: true, env: { AWS_REGION: 'us-west-2' } })).toMatchObject({
      kind: 'sigv4',
      region: 'us-west-2',
    });
    expect(resolveAuth({ apiUrl: aws, sigv4: true, region: 'eu-central-1', env: {} })).toMatchObject({
      region: 'eu-central-1',
    });
    expect(() => resolveAuth({ apiUrl: local, sigv4: true, env: {} })).toThrow(/cannot tell the AWS region/);
    expect(() => resolveAuth({ apiUrl: local, sigv4: true, token: 't', env: {} })).toThrow(/pick one/);
  });
});
