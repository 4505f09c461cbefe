// Announcing a settled job (audit event, metric, job event), so a writer that dies right after settling loses none.
import { randomUUID } from 'node:crypto';
import { audit } from './audit.ts';
import { ignoreConflict } from './errors.ts';
import type { AuditEvent, Job } from './job.ts';
import { isTerminal, type JobState } from './job-state.ts';
import { persistently } from './persist.ts';
import type { JobEventType, MetricName } from './ports.ts';
import { iso, type ServiceDeps } from './services.ts';

/**
 * A settled job stays in the due index this long (the capture lease's length): if the process that settled
 * it dies before announcing it, the sweeper finds it there and announces it then.
 */
export const ANNOUNCE_AFTER_MS = 120_000;

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
 * The job was announced: it leaves the due index, marked announced so a sweeper holding a stale read of it
 * cannot claim it again. If this write fails, the sweeper announces it again (at least once).
 */
export async function markAnnounced(deps: AnnounceDeps, job: Job): Promise<Job> {
  const patch = { dueAt: null, announcedAt: iso(deps.clock.now()), leaseOwner: null, leaseUntil: null };
  try {
    return await persistently(() => deps.jobs.update(job.jobId, patch, { states: [job.state] }));
  } catch (err) {
    deps.logger.warn('announced job left in the due index', { jobId: job.jobId, error: String(err) });
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
    const nowMs = deps.clock.now();
    await deps.jobs
      .update(
        job.jobId,
        { leaseUntil: nowMs - 1, dueAt: nowMs },
        { states: [job.state], leaseOwner: job.leaseOwner ?? '' },
      )
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
 * job not being announced and the lease being free or run out; a claimer that dies lets it run out, and the
 * next sweep announces the job then (at least once only where a process died).
 */
async function claimAnnouncement(deps: AnnounceDeps, found: Job): Promise<Job | undefined> {
  const nowMs = deps.clock.now();
  const current = await deps.jobs.get(found.jobId);
  if (!current || !isTerminal(current.state) || current.announcedAt) return undefined;
  if (current.dueAt === undefined || current.dueAt > nowMs) return undefined;
  if (current.leaseOwner && (current.leaseUntil ?? 0) >= nowMs) return undefined;
  const patch = {
    leaseOwner: randomUUID(),
    leaseUntil: nowMs + ANNOUNCE_AFTER_MS,
    // Due again when the claim runs out, so a claimer that dies is followed by another.
    dueAt: nowMs + ANNOUNCE_AFTER_MS,
  };
  const condition = current.leaseOwner
    ? { states: [current.state], leaseOwner: current.leaseOwner, absent: ['announcedAt' as const] }
    : { states: [current.state], absent: ['announcedAt' as const, 'leaseOwner' as const] };
  return deps.jobs.update(current.jobId, patch, condition).catch(ignoreConflict);
}
