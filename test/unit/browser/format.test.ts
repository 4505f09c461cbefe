// The archive browser's pure helpers: routes, list queries, sizes, times, JSON for display, safe URLs.
import { describe, expect, it } from 'vitest';
import {
  eventDetail,
  eventName,
  fileName,
  formatBytes,
  formatDuration,
  formatTime,
  jobHash,
  jobSize,
  listHash,
  listRequest,
  parseRoute,
  prettyJson,
  safeHttpUrl,
  shortPrincipal,
  tagList,
  tone,
} from '../../../web/format.js';

describe('routes', () => {
  it('reads a job address and a list address with filters', () => {
    expect(parseRoute('#/jobs/01M8MBK7CZYSBNNNQ4WA2P5V5X')).toEqual({
      view: 'job',
      jobId: '01M8MBK7CZYSBNNNQ4WA2P5V5X',
    });
    expect(parseRoute('')).toEqual({ view: 'list', filters: {} });
    expect(parseRoute('#/?state=FAILED&tag=team%3Dvision&junk=1&endpoint=')).toEqual({
      view: 'list',
      filters: { state: 'FAILED', tag: 'team=vision' },
    });
  });

  it('round-trips filters and job ids through the address', () => {
    const filters = { state: 'ARCHIVED', endpoint: 'default', tag: 'a=b=c', from: '2026-11-01T00:00' };
    expect(parseRoute(listHash(filters))).toEqual({ view: 'list', filters });
    expect(listHash({})).toBe('#/');
    expect(parseRoute(jobHash('a/b?c'))).toEqual({ view: 'job', jobId: 'a/b?c' });
  });
});

describe('listRequest', () => {
  it('passes archive states, endpoint, tag, times and the cursor to GET /jobs', () => {
    const request = listRequest(
      { state: 'PENDING', endpoint: 'gpu', tag: 'team=vision', from: '2026-11-01T00:00:00Z' },
      'next-page',
      25,
    );
    const url = new URL(request.path, 'http://x');
    expect(url.pathname).toBe('/jobs');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      state: 'PENDING',
      endpoint: 'gpu',
      tag: 'team=vision',
      from: '2026-11-01T00:00:00.000Z',
      limit: '25',
      cursor: 'next-page',
    });
    expect(request.matches({ upstreamStatus: 'IN_QUEUE' })).toBe(true);
  });

  it('asks for ARCHIVED jobs and keeps the upstream outcome asked for', () => {
    const request = listRequest({ state: 'FAILED' });
    expect(new URL(request.path, 'http://x').searchParams.get('state')).toBe('ARCHIVED');
    expect(request.matches({ upstreamStatus: 'FAILED' })).toBe(true);
    expect(request.matches({ upstreamStatus: 'COMPLETED' })).toBe(false);
  });

  it('reads local datetime-local values as local time and refuses nonsense', () => {
    const local = '2026-11-29T19:11';
    const request = listRequest({ to: local });
    expect(new URL(request.path, 'http://x').searchParams.get('to')).toBe(new Date(local).toISOString());
    expect(() => listRequest({ from: 'yesterday-ish' })).toThrow('"from" is not a date and time');
  });
});

describe('formatting', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(412)).toBe('412 B');
    expect(formatBytes(1946)).toBe('1.9 KB');
    expect(formatBytes(7_100_616)).toBe('6.8 MB');
    expect(formatBytes(undefined)).toBe('');
  });

  it('formats durations', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(1250)).toBe('1.25 s');
    expect(formatDuration(184_000)).toBe('3 min 4 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
    expect(formatDuration(undefined)).toBe('');
    // Rounded to whole seconds first: never "1 min 60 s".
    expect(formatDuration(119_700)).toBe('2 min 0 s');
    expect(formatDuration(-1500)).toBe('−1.5 s');
  });

  it('formats times in the local zone, with milliseconds on request', () => {
    const iso = '2026-11-29T19:11:02.367Z';
    const t = new Date(iso);
    const pad = (n: number) => String(n).padStart(2, '0');
    const expected = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:02`;
    expect(formatTime(iso)).toBe(expected);
    expect(formatTime(iso, true)).toBe(`${expected}.367`);
    expect(formatTime('not a time')).toBe('not a time');
    expect(formatTime(undefined)).toBe('');
  });

  it("sums a job's archive size and explains it", () => {
    expect(
      jobSize({ inputBytes: 26, resultBytes: 1201, artifacts: [{ bytes: 610 }, { bytes: 100 }] }),
    ).toEqual({ total: 1937, artifacts: 2, detail: 'input 26 B, result 1.2 KB, 2 artifacts 710 B' });
    expect(jobSize({})).toEqual({ total: 0, artifacts: 0, detail: '' });
  });

  it('lists tags sorted, shows event details on one line, names archive files, picks badge tones', () => {
    expect(tagList({ team: 'vision', order: 'A-1042' })).toEqual(['order=A-1042', 'team=vision']);
    expect(tagList(undefined)).toEqual([]);
    expect(eventDetail({ attempt: 2, status: 'COMPLETED', nested: { a: 1 } })).toBe(
      'attempt: 2, status: COMPLETED, nested: {"a":1}',
    );
    expect(eventDetail(undefined)).toBe('');
    expect(eventDetail({ text: 'x'.repeat(1000) }, 20)).toHaveLength(20);
    expect(fileName('jobs/2026/11/29/ID/artifacts/0-image.png')).toBe('0-image.png');
    expect([tone('COMPLETED'), tone('FAILED'), tone('TIMED_OUT'), tone('PENDING'), tone('ODD')]).toEqual([
      'ok',
      'bad',
      'warn',
      'busy',
      'muted',
    ]);
  });
});

describe('prettyJson', () => {
  it('indents, and cuts base64 and data URIs but not ordinary text', () => {
    const base64 = 'iVBORw0KGgo'.repeat(100);
    const text = 'a lighthouse at dawn, '.repeat(20);
    const shown = JSON.parse(
      prettyJson({ image: base64, uri: `data:image/png;base64,${base64}`, text, n: 1 }),
    ) as Record<string, string>;
    expect(shown.image).toBe(`${base64.slice(0, 120)}… [${base64.length - 120} more characters]`);
    expect(shown.uri).toMatch(/^data:image\/png;base64,iVBOR.*more characters\]$/);
    expect(shown.text).toBe(text);
    expect(prettyJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
  });

  it('cuts any string over the limit', () => {
    const shown = JSON.parse(prettyJson({ text: 'word '.repeat(100) }, 50)) as { text: string };
    expect(shown.text).toBe(`${'word '.repeat(10)}… [450 more characters]`);
  });
});

describe('safeHttpUrl', () => {
  it('keeps http(s) URLs and refuses script and data URLs', () => {
    expect(safeHttpUrl('http://127.0.0.1:4569/bucket/key?X-Amz-Signature=abc')).toBe(
      'http://127.0.0.1:4569/bucket/key?X-Amz-Signature=abc',
    );
    expect(safeHttpUrl('https://b.s3.amazonaws.com/k')).toBe('https://b.s3.amazonaws.com/k');
    expect(safeHttpUrl('/jobs/x', 'http://localhost:8787/')).toBe('http://localhost:8787/jobs/x');
    expect(safeHttpUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeHttpUrl(' JavaScript:alert(1)', 'http://localhost/')).toBeUndefined();
    expect(safeHttpUrl('data:text/html,<script>alert(1)</script>')).toBeUndefined();
    expect(safeHttpUrl(undefined)).toBeUndefined();
    expect(safeHttpUrl('not a url')).toBeUndefined();
  });
});

describe('who and how often, in the timeline', () => {
  it('names a tally of repeated events with its count and first time', () => {
    expect(eventName({ type: 'archived' })).toBe('archived');
    const tally = { type: 'webhook.duplicate', count: 37000, firstAt: '2026-11-29T12:01:00.000Z' };
    expect(eventName(tally)).toMatch(/^webhook\.duplicate ×37000 since 2026-11-29 12:01:00/);
  });

  it('shortens an IAM principal to its resource and account, and leaves anything else as it is', () => {
    expect(shortPrincipal('arn:aws:sts::123456789012:assumed-role/Admin/alice')).toBe(
      'assumed-role/Admin/alice@123456789012',
    );
    expect(shortPrincipal('arn:aws:iam::000000000000:user/local-anonymous')).toBe(
      'user/local-anonymous@000000000000',
    );
    expect(shortPrincipal(undefined)).toBe('');
    expect(shortPrincipal('not-an-arn')).toBe('not-an-arn');
  });
});
