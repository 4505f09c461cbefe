// Parts that talk to the upstream or fetch output URLs: only the functions that capture results use them.
import { apiKeyResolver } from '../adapters/secrets.ts';
import { upstreamClientFromConfig } from '../adapters/upstream/index.ts';
import { urlFetcherFromConfig } from '../adapters/url-fetcher/index.ts';
import type { PartContext } from './function-runtime.ts';
import { containerSecrets } from './secret-parts.ts';

export const upstream = (context: PartContext) =>
  upstreamClientFromConfig(context.config, apiKeyResolver(context.config, containerSecrets(context)));

export const urlFetcher = ({ config }: PartContext) => urlFetcherFromConfig(config);

/**
 * The submitter's upstream client: its own /run limiter holds this container's share of the concurrency;
 * the rate is held fleet-wide by the queue's rate item, so the per-container rate is not the binding one.
 */
export const queuedUpstream = (context: PartContext) =>
  upstreamClientFromConfig(context.config, apiKeyResolver(context.config, containerSecrets(context)), {
    limits: {
      run: {
        ratePer10s: context.config.QUEUE_RUN_RATE_PER_10S,
        concurrency: context.config.QUEUE_RUN_CONCURRENCY,
      },
    },
  });
