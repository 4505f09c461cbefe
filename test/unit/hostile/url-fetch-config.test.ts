// The URL-fetch settings: off by default, the local allowance parsed strictly, the fetcher wired only when on.
import { describe, expect, it } from 'vitest';
import { GuardedUrlFetcher, urlFetcherFromConfig } from '../../../functions/adapters/url-fetcher/index.ts';
import { parseConfig } from '../../../functions/config.ts';
import { TEST_ENV } from '../../support/fakes.ts';

describe('URL fetch configuration', () => {
  it('is off by default, with a 10 s time cap and no local allowance', () => {
    const config = parseConfig(TEST_ENV);
    expect(config).toMatchObject({
      ARTIFACTS_FETCH_URLS: false,
      ARTIFACT_FETCH_TIMEOUT_MS: 10_000,
      ARTIFACT_FETCH_ALLOW_HOSTS: [],
    });
    expect(urlFetcherFromConfig(config)).toBeUndefined();
  });

  it('parses the allowance as lower-case host:port entries and builds the guarded fetcher', () => {
    const config = parseConfig({
      ...TEST_ENV,
      ARTIFACTS_FETCH_URLS: 'true',
      ARTIFACT_FETCH_ALLOW_HOSTS: ' 127.0.0.1:4000 , Localhost:8080,[::1]:9000',
    });
    expect(config.ARTIFACT_FETCH_ALLOW_HOSTS).toEqual(['127.0.0.1:4000', 'localhost:8080', '[::1]:9000']);
    expect(urlFetcherFromConfig(config)).toBeInstanceOf(GuardedUrlFetcher);
  });

  it.each(['http://127.0.0.1:4000', '127.0.0.1', '*:80', 'host:port'])(
    'refuses the allowance entry %j, naming the variable',
    (entry) => {
      expect(() => parseConfig({ ...TEST_ENV, ARTIFACT_FETCH_ALLOW_HOSTS: entry })).toThrow(
        /ARTIFACT_FETCH_ALLOW_HOSTS/,
      );
    },
  );
});
