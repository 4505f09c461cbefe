// Composition root: config, SDK clients, adapters and service dependencies, built once per container.
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
import { EmfMetrics } from './adapters/emf-metrics.ts';
import { EventBridgePublisher, LocalEventPublisher } from './adapters/event-publishers.ts';
import { JsonLogger } from './adapters/logger.ts';
import { S3ArchiveStore } from './adapters/s3-archive-store.ts';
import { SecretCache } from './adapters/secrets.ts';
import { upstreamClientFromConfig } from './adapters/upstream/index.ts';
import { urlFetcherFromConfig } from './adapters/url-fetcher/index.ts';
import { type Config, ConfigError, parseConfig } from './config.ts';
import { systemClock } from './core/ports.ts';
import type { ServiceDeps } from './core/services.ts';

/** What handlers run against: the service dependencies. */
export type Runtime = ServiceDeps;

/** A runtime built from the environment, with concrete adapters local mode can inspect. */
export interface BuiltRuntime extends ServiceDeps {
  logger: JsonLogger;
  metrics: EmfMetrics;
}

let runtime: Runtime | undefined;

/** API key of an endpoint: a plain value in local mode, a Secrets Manager secret in AWS. */
function apiKeyResolver(config: Config, secrets: SecretCache) {
  return async (endpoint: string): Promise<string> => {
    const plain = config.UPSTREAM_API_KEYS?.[endpoint];
    if (plain) return plain;
    const secretId = config.UPSTREAM_API_KEY_SECRETS?.[endpoint];
    if (secretId) return secrets.get(secretId);
    throw new ConfigError(
      `No API key for endpoint "${endpoint}": set UPSTREAM_API_KEYS or UPSTREAM_API_KEY_SECRETS`,
    );
  };
}

function webhookSecretResolver(config: Config, secrets: SecretCache) {
  return async (): Promise<string> => {
    if (config.WEBHOOK_SECRET) return config.WEBHOOK_SECRET;
    if (config.WEBHOOK_SECRET_ID) {
      const secret = await secrets.get(config.WEBHOOK_SECRET_ID);
      if (secret.length < 32)
        throw new ConfigError('WEBHOOK_SECRET_ID: the secret must be at least 32 characters');
      return secret;
    }
    throw new ConfigError('WEBHOOK_SECRET or WEBHOOK_SECRET_ID must be set');
  };
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
  const service = env.POWERTOOLS_SERVICE_NAME ?? 'submodel-archiver';
  const logger = new JsonLogger({ level: config.LOG_LEVEL, service });
  const metrics = new EmfMetrics({
    namespace: config.METRICS_NAMESPACE,
    service,
    // In Lambda, EMF lines on stdout become CloudWatch metrics; elsewhere only the totals are kept.
    ...(env.AWS_LAMBDA_FUNCTION_NAME && { write: (line: string) => process.stdout.write(`${line}\n`) }),
  });
  const secrets = new SecretCache(getSecretsManagerClient);
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

/** The container's runtime, built on first use so a bad config fails the request with a logged reason. */
export function getRuntime(): Runtime {
  runtime ??= createRuntime();
  return runtime;
}

/** Local mode and tests: use this runtime for every handler in the process. */
export function setRuntime(value: Runtime | undefined): void {
  runtime = value;
}
