// The results service: one job with its audit trail and download links, and pages of jobs by time.
import { LIST_DEFAULT_RANGE_MS, LIST_MAX_RANGE_MS, type ListRequest } from '../schemas/api.ts';
import { audit, visibleEvents } from './audit.ts';
import { JobNotFoundError, ValidationError } from './errors.ts';
import type { AuditEvent, Job } from './job.ts';
import { isTerminal } from './job-state.ts';
import type { EventPage, ListPage } from './ports.ts';
import type { ServiceDeps } from './services.ts';

export interface JobLinks {
  input?: string;
  result?: string;
  artifacts: Array<{ key: string; contentType: string; bytes: number; url: string }>;
  expiresInSeconds: number;
}

export interface JobView {
  job: PublicJob;
  /** The first page of the audit trail; `eventsCursor` continues it through GET /jobs/{jobId}/events. */
  events: AuditEvent[];
  eventsCursor?: string;
  links: JobLinks;
}

/** Events in GET /jobs/{jobId}: a job's whole trail is usually well under this; the rest is a page away. */
export const FIRST_EVENTS_PAGE = 100;

/** The job as clients see it: no lease or announcement bookkeeping. */
export type PublicJob = Omit<Job, 'leaseOwner' | 'leaseUntil'>;

export function publicJob(job: Job): PublicJob {
  const {
    leaseOwner: _owner,
    leaseUntil: _until,
    dueAt,
    announcedAt: _told,
    announcePending: _pending,
    runClaim: _claim,
    queuedRequest: _request,
    ...rest
  } = job;
  // A settled job may stay due a little longer only until it is announced (announce.ts): bookkeeping.
  return isTerminal(job.state) || dueAt === undefined ? rest : { ...rest, dueAt };
}

type ReadDeps = Pick<ServiceDeps, 'config' | 'jobs' | 'archive' | 'clock' | 'logger'>;

/**
 * GET /jobs/{jobId}: the record, the first page of its audit trail and presigned URLs for everything
 * archived. Issuing the URLs is audited with who asked (`actor`): a link is access to the archive.
 */
export async function getJobView(deps: ReadDeps, jobId: string, actor?: string): Promise<JobView> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  const ttl = deps.config.PRESIGN_TTL_SECONDS;
  const [page, input, result, artifacts] = await Promise.all([
    deps.jobs.listEventPage(jobId, FIRST_EVENTS_PAGE),
    job.inputKey ? deps.archive.presignGet(job.inputKey, ttl) : undefined,
    job.resultKey ? deps.archive.presignGet(job.resultKey, ttl) : undefined,
    Promise.all(
      (job.artifacts ?? []).map(async (a) => ({
        key: a.key,
        contentType: a.contentType,
        bytes: a.bytes,
        url: await deps.archive.presignGet(a.key, ttl),
      })),
    ),
  ]);
  if (input || result || artifacts.length) {
    await audit(
      deps,
      jobId,
      'links.issued',
      'api',
      { route: 'job', input: Boolean(input), result: Boolean(result), artifacts: artifacts.length, ttl },
      actor,
    );
  }
  return {
    job: publicJob(job),
    events: visibleEvents(page.events),
    ...(page.cursor && { eventsCursor: page.cursor }),
    links: { ...(input && { input }), ...(result && { result }), artifacts, expiresInSeconds: ttl },
  };
}

/** GET /jobs/{jobId}/events: the audit trail a page at a time, oldest first, tallies of repeats last. */
export async function listJobEvents(
  deps: ReadDeps,
  jobId: string,
  page: { limit: number; cursor?: string },
): Promise<EventPage> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  const found = await deps.jobs.listEventPage(jobId, page.limit, page.cursor);
  return { events: visibleEvents(found.events), ...(found.cursor && { cursor: found.cursor }) };
}

/** GET /jobs/{jobId}/result: a short-lived URL of result.json, for a redirect. */
export async function resultUrl(deps: ReadDeps, jobId: string, actor?: string): Promise<string> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  if (!job.resultKey) throw new JobNotFoundError(jobId);
  const ttl = deps.config.PRESIGN_TTL_SECONDS;
  const url = await deps.archive.presignGet(job.resultKey, ttl, `${jobId}.json`);
  await audit(deps, jobId, 'links.issued', 'api', { route: 'result', result: true, ttl }, actor);
  return url;
}

/** GET /jobs: newest first within [from, to] (default: the last 30 days), filtered, paged by cursor. */
export async function listJobs(
  deps: ReadDeps,
  request: ListRequest,
): Promise<ListPage & { jobs: PublicJob[] }> {
  const toMs = request.to ? Date.parse(request.to) : deps.clock.now();
  // A defaulted start never falls before 1970, where job ids (ULIDs) have no time.
  const fromMs = request.from ? Date.parse(request.from) : Math.max(0, toMs - LIST_DEFAULT_RANGE_MS);
  if (fromMs > toMs)
    throw new ValidationError('"from" is after "to"', { from: request.from, to: request.to });
  if (toMs - fromMs > LIST_MAX_RANGE_MS) throw new ValidationError('the time range is longer than 400 days');
  const [tagKey, ...tagValue] = request.tag ? request.tag.split('=') : [];
  const page = await deps.jobs.list({
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    limit: request.limit,
    ...(request.state && { state: request.state }),
    ...(request.upstreamStatus && { upstreamStatus: request.upstreamStatus }),
    ...(request.endpoint && { endpoint: request.endpoint }),
    ...(tagKey && { tag: { key: tagKey, value: tagValue.join('=') } }),
    ...(request.principal && { principal: request.principal }),
    ...(request.cursor && { cursor: request.cursor }),
    requested: {
      ...(request.from && { from: new Date(fromMs).toISOString() }),
      ...(request.to && { to: new Date(toMs).toISOString() }),
    },
  });
  return { jobs: page.jobs.map(publicJob), ...(page.cursor && { cursor: page.cursor }) };
}
