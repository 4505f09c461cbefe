// Per-function composition: a function builds only the parts it names, each on first use; tests can still inject.
import { describe, expect, it, vi } from 'vitest';
import { setRuntime } from '../../../functions/composition/current.ts';
import { functionRuntime } from '../../../functions/composition/function-runtime.ts';
import { testDeps } from '../../support/fakes.ts';

const ENV = {
  UPSTREAM_ENDPOINTS: JSON.stringify({ default: 'https://upstream.invalid/v2/x' }),
  PUBLIC_BASE_URL: 'https://api.invalid',
  JOBS_TABLE: 'jobs-table',
  ARCHIVE_BUCKET: 'archive-bucket',
  LOG_LEVEL: 'silent',
};

describe('functionRuntime', () => {
  it('builds each named part on its first read, once, and nothing before', () => {
    const deps = testDeps();
    const jobs = vi.fn(() => deps.jobs);
    const archive = vi.fn(() => deps.archive);
    const runtime = functionRuntime('results', { jobs, archive }, ENV)();
    expect(jobs).not.toHaveBeenCalled();
    expect(archive).not.toHaveBeenCalled();
    expect(runtime.jobs).toBe(deps.jobs);
    expect(runtime.jobs).toBe(deps.jobs);
    expect(jobs).toHaveBeenCalledTimes(1);
    expect(archive).not.toHaveBeenCalled();
    expect(runtime.config.JOBS_TABLE).toBe('jobs-table');
  });

  it('fails loudly on a part the function is not built with; no URL fetcher just means none', () => {
    const runtime = functionRuntime('results', {}, ENV)();
    expect(() => runtime.upstream).toThrow('the results function is not built with upstream');
    expect(() => runtime.events).toThrow(/not built with events/);
    expect(runtime.urlFetcher).toBeUndefined();
  });

  it('uses the runtime local mode or a test injected, and its own again once that is cleared', () => {
    const deps = testDeps();
    const get = functionRuntime('results', { jobs: () => deps.jobs }, ENV);
    const injected = testDeps();
    setRuntime(injected);
    try {
      expect(get()).toBe(injected);
    } finally {
      setRuntime(undefined);
    }
    expect(get().jobs).toBe(deps.jobs);
  });
});
