// Announcing a settled job (audit event, metric, job event), so a writer that dies right after settling loses none.
import { randomUUID } from 'node:crypto';
import { audit } from './audit.ts';
import { ignoreConflict } from './errors.ts';
import type { AuditEvent, Job } from './job.ts';
import { isTerminal, type JobState } from './job-state.ts';
import { persistently } from './persist.ts';
import type { JobEventType, MetricName } from './ports.ts';
import type { ServiceDeps } from './services.ts';

type Settled = Exclude<JobState, 'QUEUED' | 'SUBMITTING' | 'PENDING'>;

const ANNOUNCEMENTS: Readonly<
  Record<Settled, { events: readonly AuditEvent['type'][]; metric: MetricName; type: JobEventType }>
> = {
  ARCHIVED: { events: ['archived'], metric: 'JobsArchived', type: 'Job Archived' },
  EXPIRED: { events: ['expired'], metric: 'JobsExpired', type: 'Job Expired' },
  REJECTED: { events: ['rejected', 'submit.rejected'], metric: 'JobsRejected', type: 'Job Rejected' },
};

type AnnounceDeps = Pick<ServiceDeps, 'jobs' | 'events' | 'metrics' | 'logger' | 'clock'>;

/**
 * The job was announced: no longer pending, so a sweeper holding a stale read of it cannot claim it again;
 * it leaves the due index unless its verification look is planned (`verifyAt`). If this write fails, the
 * sweeper announces it again (at least once).
 */
export async function markAnnounced(deps: AnnounceDeps, job: Job, verifyAt?: number): Promise<Job> {
  try {
    return await persistently(() =>
      deps.jobs.markAnnounced(job.jobId, job.state, deps.clock.now(), verifyAt),
    );
  } catch (err) {
    deps.logger.warn('announced job left pending', { jobId: job.jobId, error: String(err) });
    return job;
  }
}

/**
 * The sweeper found a settled job still due: whoever settled it stopped before announcing it. Writes the
 * audit event and counts the metric if they are missing, publishes the job event (at least once), and
 * takes the job out of the due index.
 */
export async function announceLeftover(deps: AnnounceDeps, found: Job): Promise<void> {
  const job = await claimAnnouncement(deps, found);
  if (!job || job.state === 'QUEUED' || job.state === 'SUBMITTING' || job.state === 'PENDING') return;
  const announcement = ANNOUNCEMENTS[job.state];
  const events = await deps.jobs.listEvents(job.jobId);
  if (!events.some((e) => announcement.events.includes(e.type))) {
    await audit(deps, job.jobId, announcement.events[0] ?? 'archived', 'sweeper', {
      recovered: true,
      upstreamStatus: job.upstreamStatus ?? null,
      ...(job.reason && { reason: job.reason }),
    });
    deps.metrics.count(announcement.metric);
  }
  deps.logger.warn('announced a job its writer left unannounced', { jobId: job.jobId, state: job.state });
  try {
    await deps.events.publish(announcement.type, job);
  } catch (err) {
    // Due now and the claim given up: the next pass publishes it again.
    await deps.jobs
      .releaseAnnouncement(job.jobId, job.state, job.leaseOwner ?? '', deps.clock.now())
      .catch(() => undefined);
    deps.metrics.count('EventPublishFailures');
    deps.logger.error('event publish failed', {
      jobId: job.jobId,
      type: announcement.type,
      error: String(err),
    });
    return;
  }
  await markAnnounced(deps, job);
}

/**
 * Only one announcer publishes a leftover: the due index may answer with a job announced since (a sweep's
 * batch is read before its looks; an index read in AWS may lag), and two sweepers may hold the same leftover
 * (one whose lease ran out while it was slow, not dead). The claim is the job's lease, conditional on the
 * announcement still pending and the lease being free or run out (transitions.ts); a claimer that dies lets
 * it run out, and the next sweep announces the job then (at least once only where a process died).
 */
async function claimAnnouncement(deps: AnnounceDeps, found: Job): Promise<Job | undefined> {
  const nowMs = deps.clock.now();
  const current = await deps.jobs.get(found.jobId);
  if (!current || !isTerminal(current.state) || !current.announcePending) return undefined;
  if (current.dueAt === undefined || current.dueAt > nowMs) return undefined;
  if (current.leaseOwner && (current.leaseUntil ?? 0) >= nowMs) return undefined;
  return deps.jobs.claimAnnouncement(current.jobId, current.state, randomUUID(), nowMs).catch(ignoreConflict);
}
