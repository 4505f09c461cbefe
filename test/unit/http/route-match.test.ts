// One route matcher for the functions' router and the local gateway: the same paths match the same routes.
import { describe, expect, it } from 'vitest';
import { comparePaths, matchPath, parseRoutePath } from '../../../functions/http/route-match.ts';

describe('route matching', () => {
  const cancel = parseRoutePath('/jobs/{jobId}/cancel');

  it('fills path parameters, decoded by default and as sent when asked', () => {
    expect(matchPath(cancel, '/jobs/01J%41/cancel')).toEqual({ jobId: '01JA' });
    expect(matchPath(cancel, '/jobs/01J%41/cancel', (s) => s)).toEqual({ jobId: '01J%41' });
  });

  it('never matches an empty variable, a shorter or a longer path', () => {
    expect(matchPath(cancel, '/jobs//cancel')).toBeUndefined();
    expect(matchPath(cancel, '/jobs/x')).toBeUndefined();
    expect(matchPath(cancel, '/jobs/x/cancel/more')).toBeUndefined();
  });

  it('takes the rest of the path into a greedy variable, and ranks static over variable over greedy', () => {
    const proxy = parseRoutePath('/{proxy+}');
    expect(matchPath(proxy, '/assets/app.js')).toEqual({ proxy: 'assets/app.js' });
    expect(comparePaths(parseRoutePath('/jobs/track'), parseRoutePath('/jobs/{jobId}'))).toBeLessThan(0);
    expect(comparePaths(parseRoutePath('/jobs/{jobId}'), proxy)).toBeLessThan(0);
  });

  it('refuses malformed route paths', () => {
    expect(() => parseRoutePath('/{proxy+}/x')).toThrow(/must be the last segment/);
    expect(() => parseRoutePath('jobs')).toThrow(/must start with/);
    expect(() => parseRoutePath('/jo{bs')).toThrow(/bad path segment/);
  });
});
