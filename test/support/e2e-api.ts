// A user's view of the archiver in end-to-end tests: plain fetch to the HTTP API, presigned downloads, result.json parts.
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../functions/core/job.ts';
import type { JobState } from '../../functions/core/job-state.ts';
import type { JobView, PublicJob } from '../../functions/core/results.ts';
import { WAIT_CAP_MS } from './wait.ts';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** The `{error:{code,message,details}}` body of every 4xx/5xx the API itself answers. */
export interface ApiErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export interface SubmitBody {
  endpoint?: string;
  input: Record<string, unknown>;
  policy?: { executionTimeout?: number; ttl?: number; lowPriority?: boolean };
  metadata?: Record<string, string>;
  sync?: boolean;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is instead of JSON-encoding `body`. */
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
  redirect?: 'follow' | 'manual' | 'error';
}

const TERMINAL: readonly JobState[] = ['ARCHIVED', 'EXPIRED', 'REJECTED'];

/**
 * The audit event a capture writes right after the state change (no transactions): a job is settled for a
 * reader once both are visible.
 */
const SETTLED_BY: Partial<Record<JobState, AuditEvent['type']>> = {
  ARCHIVED: 'archived',
  EXPIRED: 'expired',
};

/** Parses a body as JSON when it is JSON, else keeps the text (API Gateway's own messages are JSON too). */
async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ArchiverApi {
  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Uint8Array | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body }),
      ...(options.redirect && { redirect: options.redirect }),
    });
    return { status: response.status, headers: response.headers, body: (await readBody(response)) as T };
  }

  submit(body: SubmitBody, idempotencyKey?: string): Promise<ApiResponse<{ job: PublicJob }>> {
    return this.request('POST', '/jobs', {
      body,
      ...(idempotencyKey && { headers: { 'idempotency-key': idempotencyKey } }),
    });
  }

  /** Submits and insists on 200/202, returning the job. */
  async submitOk(body: SubmitBody): Promise<PublicJob> {
    const res = await this.submit(body);
    if (res.status !== 202 && res.status !== 200) {
      throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return res.body.job;
  }

  track(upstreamId: string, metadata?: Record<string, string>): Promise<ApiResponse<{ job: PublicJob }>> {
    return this.request('POST', '/jobs/track', { body: { upstreamId, ...(metadata && { metadata }) } });
  }

  cancel(jobId: string): Promise<ApiResponse<{ job: PublicJob }>> {
    return this.request('POST', `/jobs/${jobId}/cancel`);
  }

  async view(jobId: string): Promise<JobView> {
    const res = await this.request<JobView>('GET', `/jobs/${jobId}`);
    if (res.status !== 200)
      throw new Error(`GET /jobs/${jobId} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  list(query: Record<string, string>): Promise<ApiResponse<{ jobs: PublicJob[]; cursor?: string }>> {
    return this.request('GET', `/jobs?${new URLSearchParams(query).toString()}`);
  }

  /**
   * Polls GET /jobs/{id} until the job is in one of `states` (default: any terminal state) and its audit
   * trail records how it got there, within `timeoutMs`.
   */
  async waitForState(
    jobId: string,
    states: readonly JobState[] = TERMINAL,
    timeoutMs = WAIT_CAP_MS,
  ): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.view(jobId);
      const settledBy = SETTLED_BY[view.job.state];
      const settled = !settledBy || view.events.some((e) => e.type === settledBy);
      if (states.includes(view.job.state) && settled) return view;
      if ((TERMINAL.includes(view.job.state) && !states.includes(view.job.state)) || Date.now() > deadline) {
        throw new Error(
          `job ${jobId} is ${view.job.state} (upstream ${view.job.upstreamStatus ?? '-'}), wanted ${states.join('/')}; ` +
            `events: ${view.events.map((e) => e.type).join(', ')}`,
        );
      }
      await sleep(100);
    }
  }

  /** Waits until the job is ARCHIVED and returns its view. */
  archived(jobId: string, timeoutMs?: number): Promise<JobView> {
    return this.waitForState(jobId, ['ARCHIVED'], timeoutMs);
  }
}

/** GETs a presigned URL (s3rver checks the signature) and returns the exact bytes and content type. */
export async function download(url: string): Promise<{ bytes: Buffer; contentType: string | null }> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return {
    bytes: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type'),
  };
}

/** result.json cut into its envelope and the exact bytes of the upstream status object it carries. */
export interface ResultDocument {
  archive: {
    schemaVersion: number;
    jobId: string;
    endpoint: string;
    upstreamId: string;
    createdAt: string;
    provenance?: string;
  };
  /** The status object's bytes exactly as stored. */
  statusBytes: Buffer;
  status: Record<string, unknown>;
}

/**
 * Splits result.json (`{"archive":{...},"status":<status bytes>}\n`) without re-serialising the status, so
 * a byte-for-byte comparison with what the upstream served is possible.
 */
export function splitResultDocument(bytes: Buffer): ResultDocument {
  const parsed = JSON.parse(bytes.toString('utf8')) as {
    archive: ResultDocument['archive'];
    status: Record<string, unknown>;
  };
  const head = Buffer.from(`{"archive":${JSON.stringify(parsed.archive)},"status":`);
  const tail = Buffer.from('}\n');
  if (
    !bytes.subarray(0, head.length).equals(head) ||
    !bytes.subarray(bytes.length - tail.length).equals(tail)
  ) {
    throw new Error(`result.json does not have the documented layout: ${bytes.subarray(0, 200).toString()}`);
  }
  return {
    archive: parsed.archive,
    statusBytes: bytes.subarray(head.length, bytes.length - tail.length),
    status: parsed.status,
  };
}

/** Downloads result.json through the job view's presigned link. */
export async function fetchResult(view: JobView): Promise<ResultDocument & { bytes: Buffer }> {
  if (!view.links.result) throw new Error(`job ${view.job.jobId} has no result link (${view.job.state})`);
  const { bytes } = await download(view.links.result);
  return { ...splitResultDocument(bytes), bytes };
}

/** Length and digest: equal bytes compare equal, and a failure prints two short lines, not megabytes. */
export function fingerprint(bytes: Uint8Array | string): { length: number; sha256: string } {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  return { length: buffer.length, sha256: createHash('sha256').update(buffer).digest('hex') };
}

export const eventTypes = (events: readonly AuditEvent[]) => events.map((e) => e.type);

export const countEvents = (events: readonly AuditEvent[], type: AuditEvent['type']) =>
  events.filter((e) => e.type === type).length;
