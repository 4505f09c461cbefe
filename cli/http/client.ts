// The CLI's HTTP client: JSON requests to the archiver API with bearer or SigV4 auth, timeouts, and errors mapped to exit codes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { parseRetryAfterMs } from '../../functions/adapters/upstream/backoff.ts';
import { ApiError, EXIT, InterruptedError } from '../errors.ts';
import type { AuthMode } from './auth.ts';
import { errorFromFetchFailure, errorFromResponse } from './errors.ts';
import type { RequestSigner } from './sigv4.ts';

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface ApiClientOptions {
  baseUrl: URL;
  auth: AuthMode;
  /** Required when auth is SigV4; made lazily so that unsigned use never loads the credential chain. */
  signer?: () => Promise<RequestSigner>;
  /** Per request. */
  timeoutMs?: number;
  /** Ctrl-C. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Told before each wait on a 429 (the CLI says it on stderr). */
  onRetry?: (notice: RetryNotice) => void;
  /** Waits on 429 answers before giving up (default 3). */
  maxRetries?: number;
}

export interface RetryNotice {
  method: string;
  path: string;
  /** The API's error code, e.g. UPSTREAM_RATE_LIMITED. */
  code: string | undefined;
  waitMs: number;
  /** 1 for the first retry. */
  attempt: number;
  maxRetries: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
/** A Retry-After longer than this is not slept on: the error says when to come back instead. */
export const MAX_RETRY_WAIT_MS = 60_000;

/**
 * Retry-After as seconds or an HTTP date, read by the same parser as the functions' upstream client;
 * without one (or unreadable), 1 s, 2 s, 4 s...
 */
export function retryWaitMs(header: string | null, attempt: number, nowMs: number): number {
  return parseRetryAfterMs(header, nowMs) ?? 1000 * 2 ** (attempt - 1);
}

/**
 * Percent-encodes like SigV4's canonical query (RFC 3986), never `+` for a space: API Gateway and the
 * local gateway both decode it to the same value the signature covered.
 */
export function encodeQuery(query: Query): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    parts.push(`${rfc3986(k)}=${rfc3986(String(v))}`);
  }
  return parts.join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export class ApiClient {
  readonly baseUrl: URL;
  readonly auth: AuthMode;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private signerPromise: Promise<RequestSigner> | undefined;

  constructor(private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.auth = options.auth;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** `path` is relative to the base URL (which may carry a stage prefix such as `/prod`). */
  urlFor(path: string, query: Query = {}): URL {
    const base = this.baseUrl.pathname.replace(/\/+$/, '');
    const url = new URL(`${base}${path}`, this.baseUrl);
    const search = encodeQuery(query);
    if (search) url.search = search;
    return url;
  }

  /**
   * One API call. A 429 (the upstream's rate limit or queue, passed on with Retry-After) is retried as the
   * README documents: after Retry-After when it is at most MAX_RETRY_WAIT_MS, up to maxRetries times. Safe
   * for submits too: a refused submit is REJECTED and frees its Idempotency-Key for the retry.
   */
  async request<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions = {},
  ): Promise<ApiResponse<z.output<S>>> {
    const maxRetries = this.options.maxRetries ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(method, path, schema, options);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 429 || attempt > maxRetries) throw err;
        const waitMs = retryWaitMs(err.retryAfter ?? null, attempt, Date.now());
        if (waitMs > MAX_RETRY_WAIT_MS) throw err;
        this.options.onRetry?.({ method, path, code: err.code, waitMs, attempt, maxRetries });
        try {
          await sleep(waitMs, undefined, this.options.signal ? { signal: this.options.signal } : {});
        } catch {
          throw new InterruptedError();
        }
      }
    }
  }

  private async requestOnce<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    options: RequestOptions,
  ): Promise<ApiResponse<z.output<S>>> {
    const url = this.urlFor(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers = await this.headersFor(method, url, body, options.headers ?? {});
    const context = { method, path, auth: this.auth };
    const what = `the archiver API at ${this.baseUrl.origin}`;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        ...(body !== undefined && { body }),
        redirect: 'manual',
        signal: this.signal(),
      });
      text = await response.text();
    } catch (err) {
      throw errorFromFetchFailure(err, what, this.timeoutMs, this.unreachableHints());
    }
    if (response.status < 200 || response.status > 299)
      throw errorFromResponse(response.status, response.statusText, text, response.headers, context);
    const parsed = schema.safeParse(parseJsonOrUndefined(text));
    if (!parsed.success)
      throw new ApiError(
        `unexpected answer to ${method} ${path} (${response.status}): not the archiver's JSON`,
        EXIT.api,
        response.status,
        undefined,
        {},
        [`is ${this.baseUrl.origin} the archiver API? check --api / ARCHIVER_API_URL`],
      );
    return { status: response.status, headers: response.headers, data: parsed.data };
  }

  /** The signal for one exchange: our timeout, or Ctrl-C. */
  signal(timeoutMs = this.timeoutMs): AbortSignal {
    const timeout = AbortSignal.timeout(timeoutMs);
    return this.options.signal ? AbortSignal.any([timeout, this.options.signal]) : timeout;
  }

  private unreachableHints(): string[] {
    const local = ['127.0.0.1', 'localhost', '[::1]'].includes(this.baseUrl.hostname);
    return local
      ? ['start the local stack with `npm start`, or point --api / ARCHIVER_API_URL at a deployed API']
      : ['check --api / ARCHIVER_API_URL and your network'];
  }

  private async headersFor(
    method: string,
    url: URL,
    body: string | undefined,
    extra: Record<string, string>,
  ): Promise<Record<string, string>> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    switch (this.auth.kind) {
      case 'none':
        return headers;
      case 'bearer':
        return { ...headers, authorization: `Bearer ${this.auth.token}` };
      case 'sigv4': {
        const signed = await (await this.getSigner())({
          method,
          url,
          headers,
          ...(body !== undefined && { body }),
        });
        // fetch derives Host from the URL (the same value that was signed) and refuses to take it as a header.
        const { host: _host, ...rest } = signed;
        return rest;
      }
    }
  }

  private getSigner(): Promise<RequestSigner> {
    if (!this.options.signer) throw new Error('SigV4 auth without a signer');
    this.signerPromise ??= this.options.signer();
    return this.signerPromise;
  }
}

function parseJsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
