import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../functions/config.ts';
import { TEST_ENV } from '../../support/fakes.ts';

describe('configuration', () => {
  it('parses the environment once, with defaults derived from the retention window', () => {
    const config = parseConfig({ ...TEST_ENV, RETENTION_MS: '600000' });
    expect(config.defaultEndpoint).toBe('default');
    // A look may wait until the margin (retention / 6) before a result seen unfinished could expire.
    expect(config.lookMarginMs).toBe(100_000);
    expect(config.lookIntervalMs).toBe(500_000);
    expect(config.firstLookMs).toBe(500_000);
    expect(config.PUBLIC_BASE_URL).toBe('https://archiver.example.com');
    expect(config.STRICT_WEBHOOKS).toBe(false);
  });

  it('names every bad variable in one error', () => {
    const bad = {
      ...TEST_ENV,
      UPSTREAM_ENDPOINTS: '{not json',
      PUBLIC_BASE_URL: 'ftp://x',
      JOBS_TABLE: undefined,
    };
    expect(() => parseConfig(bad)).toThrow(ConfigError);
    try {
      parseConfig(bad);
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('UPSTREAM_ENDPOINTS');
      expect(message).toContain('PUBLIC_BASE_URL');
      expect(message).toContain('JOBS_TABLE');
    }
  });

  it('refuses a default endpoint that is not configured', () => {
    expect(() => parseConfig({ ...TEST_ENV, DEFAULT_ENDPOINT: 'nope' })).toThrow(/DEFAULT_ENDPOINT/);
  });

  it('refuses a webhook secret too short to be safe', () => {
    expect(() => parseConfig({ ...TEST_ENV, WEBHOOK_SECRET: 'short' })).toThrow(/WEBHOOK_SECRET/);
  });
});
