// The results service: one job with its audit trail and download links, and pages of jobs by time.
import type { ListRequest } from '../schemas/api.ts';
import { JobNotFoundError, ValidationError } from './errors.ts';
import type { AuditEvent, Job } from './job.ts';
import { isTerminal } from './job-state.ts';
import type { ListPage } from './ports.ts';
import type { ServiceDeps } from './services.ts';

export interface JobLinks {
  input?: string;
  result?: string;
  artifacts: Array<{ key: string; contentType: string; bytes: number; url: string }>;
  expiresInSeconds: number;
}

export interface JobView {
  job: PublicJob;
  events: AuditEvent[];
  links: JobLinks;
}

/** The job as clients see it: no lease or announcement bookkeeping. */
export type PublicJob = Omit<Job, 'leaseOwner' | 'leaseUntil'>;

const DAY_MS = 86_400_000;
/** Default and largest listing window. */
const DEFAULT_RANGE_MS = 30 * DAY_MS;
const MAX_RANGE_MS = 400 * DAY_MS;

export function publicJob(job: Job): PublicJob {
  const {
    leaseOwner: _owner,
    leaseUntil: _until,
    dueAt,
    announcedAt: _told,
    runClaim: _claim,
    ...rest
  } = job;
  // A settled job may stay due a little longer only until it is announced (announce.ts): bookkeeping.
  return isTerminal(job.state) || dueAt === undefined ? rest : { ...rest, dueAt };
}

type ReadDeps = Pick<ServiceDeps, 'config' | 'jobs' | 'archive' | 'clock'>;

/** GET /jobs/{jobId}: the record, its audit trail and presigned URLs for everything archived. */
export async function getJobView(deps: ReadDeps, jobId: string): Promise<JobView> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  const ttl = deps.config.PRESIGN_TTL_SECONDS;
  const [events, input, result, artifacts] = await Promise.all([
    deps.jobs.listEvents(jobId),
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
  return {
    job: publicJob(job),
    events,
    links: { ...(input && { input }), ...(result && { result }), artifacts, expiresInSeconds: ttl },
  };
}

/** GET /jobs/{jobId}/result: a short-lived URL of result.json, for a redirect. */
export async function resultUrl(deps: ReadDeps, jobId: string): Promise<string> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  if (!job.resultKey) throw new JobNotFoundError(jobId);
  return deps.archive.presignGet(job.resultKey, deps.config.PRESIGN_TTL_SECONDS, `${jobId}.json`);
}

/** GET /jobs: newest first within [from, to] (default: the last 30 days), filtered, paged by cursor. */
export async function listJobs(
  deps: ReadDeps,
  request: ListRequest,
): Promise<ListPage & { jobs: PublicJob[] }> {
  const toMs = request.to ? Date.parse(request.to) : deps.clock.now();
  const fromMs = request.from ? Date.parse(request.from) : toMs - DEFAULT_RANGE_MS;
  if (fromMs > toMs)
    throw new ValidationError('"from" is after "to"', { from: request.from, to: request.to });
  if (toMs - fromMs > MAX_RANGE_MS) throw new ValidationError('the time range is longer than 400 days');
  const [tagKey, ...tagValue] = request.tag ? request.tag.split('=') : [];
  const page = await deps.jobs.list({
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    limit: request.limit,
    ...(request.state && { state: request.state }),
    ...(request.upstreamStatus && { upstreamStatus: request.upstreamStatus }),
    ...(request.endpoint && { endpoint: request.endpoint }),
    ...(tagKey && { tag: { key: tagKey, value: tagValue.join('=') } }),
    ...(request.cursor && { cursor: request.cursor }),
  });
  return { jobs: page.jobs.map(publicJob), ...(page.cursor && { cursor: page.cursor }) };
}
