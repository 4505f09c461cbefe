// Settings every function reads, from the stack config to the environment names of functions/config.ts.
import type { FunctionEnvironment } from './constructs/archiver-function.ts';
import type { StackConfig } from './stack-config.ts';

/** Lambda refuses a synchronous invocation whose event is over 6 MB (6,291,456 bytes). */
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * Largest POST /jobs body: API Gateway may hand the body to Lambda base64-encoded (4/3 larger) inside an event
 * that also carries headers and request context, so 4 MiB (5.33 MiB encoded) leaves about 690 KB for the rest.
 */
export const MAX_SUBMIT_BYTES = 4 * 1024 * 1024;

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
    LOOK_MARGIN_MS:
      config.lookMarginSeconds === undefined ? undefined : String(config.lookMarginSeconds * 1000),
    FIRST_LOOK_MS: config.firstLookSeconds === undefined ? undefined : String(config.firstLookSeconds * 1000),
    LOOK_INTERVAL_MS:
      config.lookIntervalSeconds === undefined ? undefined : String(config.lookIntervalSeconds * 1000),
    SWEEP_BATCH: String(config.sweepBatch),
    SWEEP_GROUPS: String(config.sweepGroups),
    WEBHOOK_VERIFICATION: config.webhookVerification,
    WEBHOOK_VERIFICATION_BY_ENDPOINT: byEndpointVerification(config),
    ARTIFACTS_DECODE_BASE64: String(config.artifactsDecodeBase64),
    ARTIFACT_MAX_BYTES: String(config.artifactMaxMb * 1024 * 1024),
    PRESIGN_TTL_SECONDS: String(config.presignTtlSeconds),
    MAX_SUBMIT_BYTES: String(MAX_SUBMIT_BYTES),
    LOG_LEVEL: config.logLevel,
    METRICS_NAMESPACE: config.metricsNamespace,
    POWERTOOLS_SERVICE_NAME: config.serviceName,
    NOT_FOUND_GRACE_MS: msOf(config.notFoundGraceSeconds),
    SUBMIT_STALE_MS: msOf(config.submitStaleSeconds),
    SWEEP_SAFETY_MS: msOf(config.sweepSafetySeconds),
    UPSTREAM_TIMEOUT_MS: msOf(config.upstreamTimeoutSeconds),
    STATUS_RATE_PER_10S: text(config.statusRatePer10s),
    STATUS_CONCURRENCY: text(config.statusConcurrency),
    RUN_RATE_PER_10S: text(config.runRatePer10s),
    RUN_CONCURRENCY: text(config.runConcurrency),
    CANCEL_RATE_PER_10S: text(config.cancelRatePer10s),
    CANCEL_CONCURRENCY: text(config.cancelConcurrency),
    QUEUE_RUN_RATE_PER_10S: text(config.queueRunRatePer10s),
    QUEUE_HORIZON_MS: msOf(config.queueHorizonSeconds),
    VERIFY_AFTER_MS: msOf(config.verifyAfterSeconds),
    VERIFY_PER_PASS: text(config.verifyPerPass),
    ARTIFACTS_FETCH_URLS: text(config.artifactsFetchUrls),
    ARTIFACT_FETCH_TIMEOUT_MS: msOf(config.artifactFetchTimeoutSeconds),
    SECRET_CACHE_TTL_MS: msOf(config.secretCacheTtlSeconds),
  };
}

/** Unset settings stay out of the environment, so the function's own default applies. */
const text = (value: number | boolean | undefined) => (value === undefined ? undefined : String(value));
const msOf = (seconds: number | undefined) => (seconds === undefined ? undefined : String(seconds * 1000));

/** JSON endpoint → policy for the endpoints whose verification differs from the stack's; undefined when none. */
function byEndpointVerification(config: StackConfig): string | undefined {
  const differing = Object.entries(config.endpoints).filter(
    ([, e]) => e.verification !== undefined && e.verification !== config.webhookVerification,
  );
  return differing.length === 0
    ? undefined
    : JSON.stringify(Object.fromEntries(differing.map(([name, e]) => [name, e.verification])));
}
