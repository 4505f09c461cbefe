// Parts that talk to the upstream or fetch output URLs: only the functions that capture results use them.
import { apiKeyResolver } from '../adapters/secrets.ts';
import { upstreamClientFromConfig } from '../adapters/upstream/index.ts';
import { urlFetcherFromConfig } from '../adapters/url-fetcher/index.ts';
import type { PartContext } from './function-runtime.ts';
import { containerSecrets } from './secret-parts.ts';

export const upstream = (context: PartContext) =>
  upstreamClientFromConfig(context.config, apiKeyResolver(context.config, containerSecrets(context)));

export const urlFetcher = ({ config }: PartContext) => urlFetcherFromConfig(config);
