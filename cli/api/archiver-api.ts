// The archiver's HTTP API as typed calls: one method per route the CLI uses.
import type { ApiClient } from '../http/client.ts';
import {
  type AuditEvent,
  type BatchAnswer,
  batchAnswerSchema,
  eventPageSchema,
  type Job,
  type JobView,
  jobEnvelopeSchema,
  jobViewSchema,
  type ListPage,
  type ListQuery,
  listPageSchema,
  reconcileAnswerSchema,
} from './schemas.ts';

export interface SubmitBody {
  endpoint?: string;
  input: unknown;
  policy?: { executionTimeout?: number; ttl?: number; lowPriority?: boolean };
  metadata?: Record<string, string>;
  sync?: boolean;
}

/** One job of POST /jobs/batch: a queued submit body with its own Idempotency-Key. */
export type BatchJob = Omit<SubmitBody, 'sync'> & { idempotencyKey?: string };

export interface TrackBody {
  endpoint?: string;
  upstreamId: string;
  metadata?: Record<string, string>;
}

const jobPath = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;

export class ArchiverApi {
  constructor(readonly http: ApiClient) {}

  /** POST /jobs; `replayed` when the Idempotency-Key matched an earlier submit. */
  async submit(body: SubmitBody, idempotencyKey: string): Promise<{ job: Job; replayed: boolean }> {
    const res = await this.http.request('POST', '/jobs', jobEnvelopeSchema, {
      body,
      headers: { 'idempotency-key': idempotencyKey },
    });
    return { job: res.data.job, replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  /** POST /jobs/batch: queued submissions, each answered on its own (`index` is its place in `jobs`). */
  async submitBatch(jobs: readonly BatchJob[]): Promise<BatchAnswer> {
    return (await this.http.request('POST', '/jobs/batch', batchAnswerSchema, { body: { jobs } })).data;
  }

  /** POST /jobs/track; `created` is false when the upstream id was already tracked. */
  async track(body: TrackBody): Promise<{ job: Job; created: boolean }> {
    const res = await this.http.request('POST', '/jobs/track', jobEnvelopeSchema, { body });
    return { job: res.data.job, created: res.status === 201 };
  }

  async get(jobId: string): Promise<JobView> {
    return (await this.http.request('GET', jobPath(jobId), jobViewSchema)).data;
  }

  /** GET /jobs/{jobId}/events: one page of the audit trail (no download links issued). */
  async events(jobId: string, cursor?: string): Promise<{ events: AuditEvent[]; cursor?: string }> {
    const query = cursor === undefined ? undefined : { cursor };
    const res = await this.http.request('GET', `${jobPath(jobId)}/events`, eventPageSchema, {
      ...(query && { query }),
    });
    return { events: res.data.events, ...(res.data.cursor !== undefined && { cursor: res.data.cursor }) };
  }

  /** The whole audit trail, a page at a time, from `cursor` on (the start when absent). */
  async *eventPages(jobId: string, cursor?: string): AsyncGenerator<AuditEvent[]> {
    let next = cursor;
    do {
      const page = await this.events(jobId, next);
      yield page.events;
      next = page.cursor;
    } while (next !== undefined);
  }

  async list(query: ListQuery): Promise<ListPage> {
    return (await this.http.request('GET', '/jobs', listPageSchema, { query: { ...query } })).data;
  }

  async cancel(jobId: string): Promise<Job> {
    return (await this.http.request('POST', `${jobPath(jobId)}/cancel`, jobEnvelopeSchema)).data.job;
  }

  /** POST /jobs/{jobId}/reconcile: attach an upstream id to an ambiguous submit, or re-check the job. */
  async reconcile(jobId: string, upstreamId?: string): Promise<{ job: Job; outcome?: string }> {
    const res = await this.http.request('POST', `${jobPath(jobId)}/reconcile`, reconcileAnswerSchema, {
      body: upstreamId === undefined ? {} : { upstreamId },
    });
    return { job: res.data.job, ...(res.data.outcome !== undefined && { outcome: res.data.outcome }) };
  }

  /** Follows cursors from `query.cursor` on, one page at a time. */
  async *pages(query: ListQuery): AsyncGenerator<ListPage> {
    let cursor = query.cursor;
    do {
      const page = await this.list({ ...query, ...(cursor !== undefined && { cursor }) });
      yield page;
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
}
