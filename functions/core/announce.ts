// Announcing a settled job (audit event, metric, job event), so a writer that dies right after settling loses none.
import { audit } from './audit.ts';
import type { AuditEvent, Job } from './job.ts';
import type { JobState } from './job-state.ts';
import { persistently } from './persist.ts';
import type { JobEventType, MetricName } from './ports.ts';
import type { ServiceDeps } from './services.ts';

/**
 * A settled job stays in the due index this long (the capture lease's length): if the process that settled
 * it dies before announcing it, the sweeper finds it there and announces it then.
 */
export const ANNOUNCE_AFTER_MS = 120_000;

type Settled = Exclude<JobState, 'SUBMITTING' | 'PENDING'>;

const ANNOUNCEMENTS: Readonly<
  Record<Settled, { events: readonly AuditEvent['type'][]; metric: MetricName; type: JobEventType }>
> = {
  ARCHIVED: { events: ['archived'], metric: 'JobsArchived', type: 'Job Archived' },
  EXPIRED: { events: ['expired'], metric: 'JobsExpired', type: 'Job Expired' },
  REJECTED: { events: ['rejected', 'submit.rejected'], metric: 'JobsRejected', type: 'Job Rejected' },
};

type AnnounceDeps = Pick<ServiceDeps, 'jobs' | 'events' | 'metrics' | 'logger' | 'clock'>;

/** The job was announced: it leaves the due index. If this write fails, the sweeper announces it again. */
export async function markAnnounced(deps: AnnounceDeps, job: Job): Promise<Job> {
  try {
    return await persistently(() => deps.jobs.update(job.jobId, { dueAt: null }, { states: [job.state] }));
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
export async function announceLeftover(deps: AnnounceDeps, job: Job): Promise<void> {
  if (job.state === 'SUBMITTING' || job.state === 'PENDING') return;
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
    // Stays due: the next pass publishes it again.
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
