// The export loop, apart from flags and files: write each page's jobs as JSON lines, and always know where to resume.
import type { ListPage } from './api/schemas.ts';

export interface ExportOptions {
  /** Fetches one page: the first with `cursor` undefined (or the resume cursor). */
  fetchPage(cursor: string | undefined): Promise<ListPage>;
  startCursor?: string;
  writeLine(line: string): Promise<void>;
  signal: AbortSignal;
  /** Stop after this many pages (export in chunks); the result's cursor continues. */
  maxPages?: number;
  onPage?(progress: { jobs: number; pages: number; oldestCreatedAt?: string }): void;
}

export interface ExportResult {
  outcome: 'done' | 'paused' | 'interrupted' | 'failed';
  jobs: number;
  pages: number;
  /** The cursor of the first page not yet written; undefined when done (or when nothing was fetched yet). */
  resumeCursor?: string;
  error?: unknown;
}

/**
 * A page is written whole before its cursor counts as done, so resuming from `resumeCursor` neither skips
 * nor repeats a job (the API's cursor means "strictly older than the last job of that page").
 */
export async function exportJobs(options: ExportOptions): Promise<ExportResult> {
  let cursor = options.startCursor;
  let jobs = 0;
  let pages = 0;
  const result = (outcome: ExportResult['outcome'], error?: unknown): ExportResult => ({
    outcome,
    jobs,
    pages,
    ...(cursor !== undefined && { resumeCursor: cursor }),
    ...(error !== undefined && { error }),
  });
  for (;;) {
    if (options.signal.aborted) return result('interrupted');
    if (options.maxPages !== undefined && pages >= options.maxPages) return result('paused');
    let page: ListPage;
    try {
      page = await options.fetchPage(cursor);
    } catch (err) {
      return result(
        options.signal.aborted ? 'interrupted' : 'failed',
        options.signal.aborted ? undefined : err,
      );
    }
    try {
      for (const job of page.jobs) await options.writeLine(JSON.stringify(job));
    } catch (err) {
      // A half-written page: resuming from this page's cursor repeats what did reach the file, never loses.
      return result('failed', err);
    }
    jobs += page.jobs.length;
    pages++;
    cursor = page.cursor;
    const oldest = page.jobs.at(-1)?.createdAt;
    options.onPage?.({ jobs, pages, ...(oldest !== undefined && { oldestCreatedAt: oldest }) });
    if (cursor === undefined) return result('done');
  }
}
