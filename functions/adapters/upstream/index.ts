// Public surface of the upstream adapter; the rest of the folder is its implementation.
export { createUpstreamClient } from './client.ts';
export { UpstreamConnectionLostError } from './error-mapping.ts';
export { type UpstreamConfig, upstreamClientFromConfig } from './from-config.ts';
export { Limiter, type LimiterSettings, type Permit } from './limiter.ts';
export type { OperationClass, UpstreamOperation } from './operations.ts';
export {
  DEFAULT_LIMITS,
  DEFAULT_RETRY,
  DEFAULT_SYNC_WAIT_MS,
  DEFAULT_TIMEOUT_MS,
  type FetchLike,
  SYNC_WAIT_RANGE_MS,
  type UpstreamClientOptions,
  type UpstreamEvent,
} from './options.ts';
