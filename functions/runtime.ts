// Composition root of local mode and tests: config, SDK clients, every adapter, built at once. In Lambda each
// handler composes only the parts it uses (composition/function-runtime.ts).
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  getDynamoDocumentClient,
  getEventBridgeClient,
  getS3Client,
  getSecretsManagerClient,
} from './adapters/aws-clients.ts';
import { DynamoJobRepository } from './adapters/dynamo-job-repository.ts';
import { DynamoSweepLease } from './adapters/dynamo-sweep-lease.ts';
import type { EmfMetrics } from './adapters/emf-metrics.ts';
import { EventBridgePublisher, LocalEventPublisher } from './adapters/event-publishers.ts';
import type { JsonLogger } from './adapters/logger.ts';
import { S3ArchiveStore } from './adapters/s3-archive-store.ts';
import { apiKeyResolver, SecretCache, webhookSecretResolver } from './adapters/secrets.ts';
import { upstreamClientFromConfig } from './adapters/upstream/index.ts';
import { urlFetcherFromConfig } from './adapters/url-fetcher/index.ts';
import { injectedRuntime, setRuntime } from './composition/current.ts';
import { observability } from './composition/observability.ts';
import { parseConfig } from './config.ts';
import { systemClock } from './core/ports.ts';
import type { ServiceDeps } from './core/services.ts';

/** What handlers run against: the service dependencies. */
export type Runtime = ServiceDeps;

/** A runtime built from the environment, with concrete adapters local mode can inspect. */
export interface BuiltRuntime extends ServiceDeps {
  logger: JsonLogger;
  metrics: EmfMetrics;
}

/** Clients to use instead of the process-wide ones (local mode and tests point them at local servers). */
export interface RuntimeClients {
  dynamo?: DynamoDBDocumentClient;
  s3?: S3Client;
  /** Local mode: called with every job event (EventBridge is used instead when EVENT_BUS_NAME is set). */
  onEvent?: ConstructorParameters<typeof LocalEventPublisher>[2];
}

/** Builds the runtime from an environment. Local mode and tests may build several; handlers share one. */
export function createRuntime(
  env: Record<string, string | undefined> = process.env,
  clients: RuntimeClients = {},
): BuiltRuntime {
  const config = parseConfig(env);
  const { logger, metrics } = observability(config, env);
  const secrets = new SecretCache(getSecretsManagerClient, { ttlMs: config.SECRET_CACHE_TTL_MS });
  const upstream = upstreamClientFromConfig(config, apiKeyResolver(config, secrets));
  return {
    config,
    logger,
    metrics,
    clock: systemClock,
    jobs: new DynamoJobRepository({
      client: clients.dynamo ?? getDynamoDocumentClient(),
      tableName: config.JOBS_TABLE,
      dueShards: config.DUE_SHARDS,
    }),
    archive: new S3ArchiveStore({ client: clients.s3 ?? getS3Client(), bucket: config.ARCHIVE_BUCKET }),
    upstream,
    events: config.EVENT_BUS_NAME
      ? new EventBridgePublisher(getEventBridgeClient(), config.EVENT_BUS_NAME)
      : new LocalEventPublisher(logger, config.EVENTS_FORWARD_URL, clients.onEvent),
    webhookSecret: webhookSecretResolver(config, secrets),
    urlFetcher: urlFetcherFromConfig(config),
    sweepLease: new DynamoSweepLease({
      client: clients.dynamo ?? getDynamoDocumentClient(),
      tableName: config.JOBS_TABLE,
    }),
  };
}

/** The process's runtime: the one set with setRuntime, else every adapter built from the environment once. */
export function getRuntime(): Runtime {
  const current = injectedRuntime();
  if (current) return current;
  const built = createRuntime();
  setRuntime(built);
  return built;
}

/** Local mode and tests: use this runtime for every handler in the process. */
export { setRuntime };
