// The UpstreamClient over fetch: per-endpoint limiters, timeouts, error mapping, retries, tolerant parsing.
import { UnknownEndpointError, UpstreamError, UpstreamInvalidResponseError } from '../../core/errors.ts';
import { attachWhole } from '../../core/lean-output.ts';
import type { FetchedStatus, UpstreamClient } from '../../core/upstream-port.ts';
import {
  healthSchema,
  purgeQueueSchema,
  runAcceptedSchema,
  streamResponseSchema,
  upstreamAnswerSchema,
} from '../../schemas/upstream.ts';
import { defaultRetryAfterMs, parseRetryAfterMs, type RetrySettings } from './backoff.ts';
import { errorForFailure, errorForStatus } from './error-mapping.ts';
import { Limiter } from './limiter.ts';
import { buildOperationUrl, OPERATIONS, type OperationClass, type UpstreamOperation } from './operations.ts';
import {
  DEFAULT_LIMITS,
  DEFAULT_RETRY,
  DEFAULT_SYNC_WAIT_MS,
  DEFAULT_TIMEOUT_MS,
  type FetchLike,
  SYNC_WAIT_RANGE_MS,
  type UpstreamClientOptions,
  type UpstreamEvent,
} from './options.ts';
import { decodeJson, normaliseStream, validate } from './parse-response.ts';
import { retryDelayMs } from './retry-policy.ts';
import { readStatusBody } from './status-body.ts';

interface CallSpec {
  endpoint: string;
  operation: UpstreamOperation;
  id?: string;
  query?: Record<string, number | undefined>;
  body?: unknown;
  extraTimeoutMs?: number;
}

/** Reads a 2xx body; an unreadable one throws UpstreamInvalidResponseError, which is never retried. */
type BodyReader<T> = (operation: UpstreamOperation, response: Response) => Promise<T>;

/** A 2xx with a body we cannot read is not retried: asking again would most likely get the same body. */
const readJson: BodyReader<unknown> = async (operation, response) =>
  decodeJson(operation, new Uint8Array(await response.arrayBuffer()));

/** The value JSON.parse gives for a lean-read body: for the rare readers that need the whole output. */
const wholeJson = (raw: readonly Uint8Array[]) => JSON.parse(Buffer.concat(raw).toString('utf8')) as unknown;

/** Builds the client; base URLs are checked now, API keys are fetched only when a call needs them. */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const bases = new Map(Object.entries(options.endpoints).map(([name, href]) => [name, new URL(href)]));
  const retry: RetrySettings = { ...DEFAULT_RETRY, ...options.retry };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const limiters = new Map<string, Limiter>();

  const emit = (event: UpstreamEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // Metrics are best effort.
    }
  };

  // Upstream limits apply per endpoint and operation, so each endpoint gets its own buckets.
  const limiterFor = (endpoint: string, limiterClass: OperationClass): Limiter => {
    const key = `${endpoint}\u0000${limiterClass}`;
    let limiter = limiters.get(key);
    if (limiter === undefined) {
      limiter = new Limiter(limits[limiterClass], { now, sleep });
      limiters.set(key, limiter);
    }
    return limiter;
  };

  const attempt = async <T>(
    spec: CallSpec,
    url: URL,
    init: RequestInit,
    n: number,
    read: BodyReader<T>,
  ): Promise<T> => {
    const { endpoint, operation } = spec;
    const { limiterClass } = OPERATIONS[operation];
    const permit = await limiterFor(endpoint, limiterClass).acquire();
    if (permit.waitedMs > 0) {
      emit({ type: 'limiter-wait', endpoint, limiterClass, waitedMs: permit.waitedMs });
    }
    const budgetMs = timeoutMs + (spec.extraTimeoutMs ?? 0);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, budgetMs);
    const started = now();
    try {
      const response = await fetchImpl(url.href, { ...init, signal: controller.signal });
      // The timer stays armed while the body streams in: a stalled body is a timeout too.
      const answered = () =>
        emit({
          type: 'response',
          endpoint,
          operation,
          attempt: n,
          status: response.status,
          durationMs: now() - started,
        });
      if (response.ok) {
        const body = await read(operation, response).catch((err: unknown) => {
          // A 2xx that cannot be read was still an answer; it is not retried (retry-policy.ts).
          if (err instanceof UpstreamInvalidResponseError) answered();
          throw err;
        });
        answered();
        return body;
      }
      const raw = new Uint8Array(await response.arrayBuffer());
      answered();
      let retryAfterMs = 0;
      if (response.status === 429) {
        retryAfterMs =
          parseRetryAfterMs(response.headers.get('retry-after'), now()) ??
          defaultRetryAfterMs(retry, n, random);
        emit({ type: 'rate-limited', endpoint, operation, attempt: n, retryAfterMs });
      }
      throw errorForStatus(operation, response.status, raw, { upstreamId: spec.id, retryAfterMs });
    } catch (thrown) {
      if (thrown instanceof UpstreamError) throw thrown;
      const error = errorForFailure(operation, thrown, { timedOut, timeoutMs: budgetMs });
      emit({
        type: 'failure',
        endpoint,
        operation,
        attempt: n,
        code: error.code,
        durationMs: now() - started,
      });
      throw error;
    } finally {
      clearTimeout(timer);
      permit.release();
    }
  };

  const call = async <T>(spec: CallSpec, read: BodyReader<T>): Promise<T> => {
    const base = bases.get(spec.endpoint);
    if (base === undefined) throw new UnknownEndpointError(spec.endpoint, [...bases.keys()]);
    const { method, idempotent } = OPERATIONS[spec.operation];
    const url = buildOperationUrl(base, spec.operation, spec.id, spec.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${await options.apiKey(spec.endpoint)}`,
      accept: 'application/json',
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = {
      method,
      headers,
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
    };
    for (let n = 1; ; n++) {
      try {
        return await attempt(spec, url, init, n, read);
      } catch (thrown) {
        if (!(thrown instanceof UpstreamError)) throw thrown;
        const delayMs = retryDelayMs(thrown, { idempotent, attempt: n, retry, random });
        if (delayMs === undefined) throw thrown;
        emit({
          type: 'retry',
          endpoint: spec.endpoint,
          operation: spec.operation,
          attempt: n,
          delayMs,
          code: thrown.code,
        });
        await sleep(delayMs);
      }
    }
  };
  const answer = (spec: CallSpec) => call(spec, readJson);

  // Status answers may be large: read as they stream in, parsed lean, the bytes kept in blocks (status-body.ts).
  const fetched = async (spec: CallSpec): Promise<FetchedStatus> => {
    const body = await call(spec, readStatusBody);
    const status = validate(spec.operation, upstreamAnswerSchema, body.json);
    if (body.lean)
      attachWhole(status, () => validate(spec.operation, upstreamAnswerSchema, wholeJson(body.raw)));
    return { status, raw: body.raw };
  };

  return {
    async run(endpoint, request) {
      return validate('run', runAcceptedSchema, await answer({ endpoint, operation: 'run', body: request }));
    },
    runSync(endpoint, request, opts) {
      const waitMs = clampWait(opts?.waitMs);
      const extraTimeoutMs = waitMs ?? DEFAULT_SYNC_WAIT_MS;
      return fetched({
        endpoint,
        operation: 'runsync',
        body: request,
        query: { wait: waitMs },
        extraTimeoutMs,
      });
    },
    status(endpoint, upstreamId, opts) {
      return fetched({ endpoint, operation: 'status', id: upstreamId, query: { ttl: opts?.ttlMs } });
    },
    statusSync(endpoint, upstreamId, opts) {
      const waitMs = clampWait(opts?.waitMs);
      const extraTimeoutMs = waitMs ?? DEFAULT_SYNC_WAIT_MS;
      return fetched({
        endpoint,
        operation: 'status-sync',
        id: upstreamId,
        query: { wait: waitMs },
        extraTimeoutMs,
      });
    },
    async stream(endpoint, upstreamId) {
      const json = await answer({ endpoint, operation: 'stream', id: upstreamId });
      return validate('stream', streamResponseSchema, normaliseStream(json));
    },
    async cancel(endpoint, upstreamId) {
      return validate(
        'cancel',
        upstreamAnswerSchema,
        await answer({ endpoint, operation: 'cancel', id: upstreamId }),
      );
    },
    async retry(endpoint, upstreamId) {
      return validate(
        'retry',
        upstreamAnswerSchema,
        await answer({ endpoint, operation: 'retry', id: upstreamId }),
      );
    },
    async purgeQueue(endpoint) {
      return validate('purge-queue', purgeQueueSchema, await answer({ endpoint, operation: 'purge-queue' }));
    },
    async health(endpoint) {
      return validate('health', healthSchema, await answer({ endpoint, operation: 'health' }));
    },
  };
}

/** Keeps `?wait=` inside what the upstream accepts, so a caller's odd value is not refused as a 400. */
function clampWait(waitMs: number | undefined): number | undefined {
  if (waitMs === undefined) return undefined;
  return Math.min(SYNC_WAIT_RANGE_MS.max, Math.max(SYNC_WAIT_RANGE_MS.min, Math.round(waitMs)));
}
