// The export loop: whole pages, a resume cursor after every stop, and no job twice across a resume.
import { describe, expect, it } from 'vitest';
import type { Job, ListPage } from '../../../cli/api/schemas.ts';
import { exportJobs } from '../../../cli/exporter.ts';

const job = (n: number): Job => ({
  jobId: `JOB${String(n).padStart(3, '0')}`,
  endpoint: 'default',
  state: 'ARCHIVED',
  createdAt: new Date(Date.UTC(2026, 10, 29) - n * 60_000).toISOString(),
});

/** Seven jobs, newest first, three per page; cursors are "c<index of the next job>". */
function pages(failAt?: string) {
  const all = Array.from({ length: 7 }, (_, i) => job(i));
  const calls: Array<string | undefined> = [];
  const fetchPage = async (cursor: string | undefined): Promise<ListPage> => {
    calls.push(cursor);
    if (cursor !== undefined && cursor === failAt) throw new Error('network down');
    const start = cursor === undefined ? 0 : Number(cursor.slice(1));
    const jobs = all.slice(start, start + 3);
    const next = start + 3 < all.length ? `c${start + 3}` : undefined;
    return { jobs, ...(next !== undefined && { cursor: next }) };
  };
  return { all, calls, fetchPage };
}

function sink() {
  const lines: string[] = [];
  return { lines, writeLine: async (line: string) => void lines.push(line) };
}

const ids = (lines: string[]) => lines.map((l) => (JSON.parse(l) as Job).jobId);

describe('exportJobs', () => {
  it('writes every job once, in order, and ends done', async () => {
    const source = pages();
    const out = sink();
    const progress: number[] = [];
    const result = await exportJobs({
      fetchPage: source.fetchPage,
      writeLine: out.writeLine,
      signal: new AbortController().signal,
      onPage: (p) => progress.push(p.jobs),
    });
    expect(result).toEqual({ outcome: 'done', jobs: 7, pages: 3 });
    expect(ids(out.lines)).toEqual(source.all.map((j) => j.jobId));
    expect(progress).toEqual([3, 6, 7]);
  });

  it('pauses after --max-pages and resumes from the cursor with the rest', async () => {
    const source = pages();
    const out = sink();
    const first = await exportJobs({ ...source, ...out, signal: new AbortController().signal, maxPages: 1 });
    expect(first).toMatchObject({ outcome: 'paused', jobs: 3, resumeCursor: 'c3' });
    const rest = await exportJobs({
      ...source,
      ...out,
      signal: new AbortController().signal,
      startCursor: first.resumeCursor ?? '',
    });
    expect(rest.outcome).toBe('done');
    expect(ids(out.lines)).toEqual(source.all.map((j) => j.jobId));
  });

  it('on a failed page reports the error and the cursor of that page', async () => {
    const source = pages('c6');
    const out = sink();
    const result = await exportJobs({ ...source, ...out, signal: new AbortController().signal });
    expect(result).toMatchObject({ outcome: 'failed', jobs: 6, resumeCursor: 'c6' });
    expect(String(result.error)).toContain('network down');
    const rest = await exportJobs({
      ...pages(),
      ...out,
      signal: new AbortController().signal,
      startCursor: 'c6',
    });
    expect(rest.outcome).toBe('done');
    expect(new Set(ids(out.lines)).size).toBe(7);
    expect(out.lines).toHaveLength(7);
  });

  it('stops at a page boundary on Ctrl-C', async () => {
    const source = pages();
    const out = sink();
    const interrupt = new AbortController();
    const result = await exportJobs({
      ...source,
      ...out,
      signal: interrupt.signal,
      onPage: () => interrupt.abort(),
    });
    expect(result).toMatchObject({ outcome: 'interrupted', jobs: 3, resumeCursor: 'c3' });
    expect(out.lines).toHaveLength(3);
  });

  it('with nothing fetched yet there is no cursor: the same command starts over', async () => {
    const result = await exportJobs({
      fetchPage: async () => {
        throw new Error('refused');
      },
      writeLine: async () => undefined,
      signal: new AbortController().signal,
    });
    expect(result.outcome).toBe('failed');
    expect(result.resumeCursor).toBeUndefined();
  });
});
