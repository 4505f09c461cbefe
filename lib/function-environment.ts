// Settings every function reads, from the stack config to the environment names of functions/config.ts.
import type { FunctionEnvironment } from './constructs/archiver-function.ts';
import type { StackConfig } from './stack-config.ts';

/**
 * The shared settings; resource names and secret ids are added by the bind* helpers of each function.
 * @example sharedEnvironment(config, api.url).RETENTION_MS // '1800000'
 */
export function sharedEnvironment(config: StackConfig, publicBaseUrl: string): FunctionEnvironment {
  const endpointNames = Object.keys(config.endpoints);
  return {
    UPSTREAM_ENDPOINTS: JSON.stringify(
      Object.fromEntries(Object.entries(config.endpoints).map(([name, e]) => [name, e.url])),
    ),
    DEFAULT_ENDPOINT: config.defaultEndpoint ?? endpointNames[0],
    PUBLIC_BASE_URL: config.publicBaseUrl ?? publicBaseUrl,
    RETENTION_MS: String(config.retentionMinutes * 60_000),
    FIRST_LOOK_MS: String(config.firstLookSeconds * 1000),
    LOOK_INTERVAL_MS:
      config.lookIntervalSeconds === undefined ? undefined : String(config.lookIntervalSeconds * 1000),
    SWEEP_BATCH: String(config.sweepBatch),
    STRICT_WEBHOOKS: String(config.strictWebhooks),
    ARTIFACTS_DECODE_BASE64: String(config.artifactsDecodeBase64),
    ARTIFACT_MAX_BYTES: String(config.artifactMaxMb * 1024 * 1024),
    PRESIGN_TTL_SECONDS: String(config.presignTtlSeconds),
    LOG_LEVEL: config.logLevel,
    METRICS_NAMESPACE: config.metricsNamespace,
    POWERTOOLS_SERVICE_NAME: config.serviceName,
  };
}
