// Builds the upstream client from the parsed configuration, so every entry point wires it the same way.
import type { Config } from '../../config.ts';
import type { UpstreamClient } from '../../core/upstream-port.ts';
import { createUpstreamClient } from './client.ts';
import { DEFAULT_LIMITS, type UpstreamClientOptions } from './options.ts';

/** The config fields the client reads; a full Config fits. */
export type UpstreamConfig = Pick<
  Config,
  | 'UPSTREAM_ENDPOINTS'
  | 'UPSTREAM_TIMEOUT_MS'
  | 'STATUS_RATE_PER_10S'
  | 'STATUS_CONCURRENCY'
  | 'RUN_RATE_PER_10S'
  | 'RUN_CONCURRENCY'
  | 'CANCEL_RATE_PER_10S'
  | 'CANCEL_CONCURRENCY'
>;

/**
 * The client for the configured endpoints. runsync and the "other" class (retry, purge-queue, health) have
 * no config variables and keep DEFAULT_LIMITS. `overrides` (e.g. onEvent for metrics) win over the config.
 */
export function upstreamClientFromConfig(
  config: UpstreamConfig,
  apiKey: (endpoint: string) => Promise<string>,
  overrides: Partial<Omit<UpstreamClientOptions, 'endpoints' | 'apiKey'>> = {},
): UpstreamClient {
  return createUpstreamClient({
    endpoints: config.UPSTREAM_ENDPOINTS,
    apiKey,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    ...overrides,
    limits: {
      status: { ratePer10s: config.STATUS_RATE_PER_10S, concurrency: config.STATUS_CONCURRENCY },
      run: { ratePer10s: config.RUN_RATE_PER_10S, concurrency: config.RUN_CONCURRENCY },
      cancel: { ratePer10s: config.CANCEL_RATE_PER_10S, concurrency: config.CANCEL_CONCURRENCY },
      runsync: DEFAULT_LIMITS.runsync,
      other: DEFAULT_LIMITS.other,
      ...overrides.limits,
    },
  });
}
