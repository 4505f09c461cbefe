// What the core needs from the upstream: one method per operation, failures as typed UpstreamError subclasses.
import type {
  EndpointHealth,
  PurgeQueueResult,
  RunAccepted,
  RunRequest,
  StreamResponse,
  UpstreamStatus,
} from '../schemas/upstream.ts';

/**
 * A status object plus the exact bytes it was parsed from, so archives keep what the upstream sent. A large
 * answer's bytes come in blocks, and its status may be lean: long output strings stand in for their text
 * (core/lean-output.ts), which stays in `raw`.
 */
export interface FetchedStatus {
  status: UpstreamStatus;
  raw: Uint8Array | readonly Uint8Array[];
}

/**
 * One configured endpoint name (e.g. "default", "sdxl") maps to a base URL; every method takes that name.
 * Errors: UpstreamRateLimitedError, UpstreamNotFoundError, UpstreamUnauthorizedError, UpstreamRefusedError,
 * UpstreamServerError, UpstreamTimeoutError, UpstreamUnreachableError, UpstreamInvalidResponseError.
 */
export interface UpstreamClient {
  /** POST /run. Never retried unless the upstream certainly did not accept (429, connection refused). */
  run(endpoint: string, request: RunRequest): Promise<RunAccepted>;
  /** POST /runsync?wait=. Returns the status object (final, or `{id, status}` when not done in time). */
  runSync(endpoint: string, request: RunRequest, options?: { waitMs?: number }): Promise<FetchedStatus>;
  /** GET /status/{id}[?ttl=]. */
  status(endpoint: string, upstreamId: string, options?: { ttlMs?: number }): Promise<FetchedStatus>;
  /** GET /status-sync/{id}?wait=. */
  statusSync(endpoint: string, upstreamId: string, options?: { waitMs?: number }): Promise<FetchedStatus>;
  /** GET /stream/{id}. */
  stream(endpoint: string, upstreamId: string): Promise<StreamResponse>;
  /** POST /cancel/{id}. */
  cancel(endpoint: string, upstreamId: string): Promise<UpstreamStatus>;
  /** POST /retry/{id}. */
  retry(endpoint: string, upstreamId: string): Promise<UpstreamStatus>;
  /** POST /purge-queue. */
  purgeQueue(endpoint: string): Promise<PurgeQueueResult>;
  /** GET /health. */
  health(endpoint: string): Promise<EndpointHealth>;
}
