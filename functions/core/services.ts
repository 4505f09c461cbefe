// The dependencies every core service receives; built once per container by functions/runtime.ts.

import type { Config } from '../config.ts';
import type {
  ArchiveStore,
  Clock,
  EventPublisher,
  JobRepository,
  Logger,
  Metrics,
  UrlFetcher,
} from './ports.ts';
import type { SweepLease } from './sweep-lease.ts';
import type { UpstreamClient } from './upstream-port.ts';

export interface ServiceDeps {
  config: Config;
  jobs: JobRepository;
  archive: ArchiveStore;
  upstream: UpstreamClient;
  events: EventPublisher;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  /** The webhook HMAC secret, resolved lazily (Secrets Manager in AWS). */
  webhookSecret: () => Promise<string>;
  /** Fetches image URLs of outputs; absent unless ARTIFACTS_FETCH_URLS is on. */
  urlFetcher?: UrlFetcher;
  /** The sweeper's single flight (sweep-lease.ts); absent in tests that sweep by hand. */
  sweepLease?: SweepLease;
}

export const iso = (ms: number) => new Date(ms).toISOString();
