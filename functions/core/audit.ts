// Appends audit events without letting a failed append undo the work it describes; repeats are tallied.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventType } from './job.ts';
import { persistently } from './persist.ts';
import { redactValue } from './redaction.ts';
import type { ServiceDeps } from './services.ts';
import { iso } from './services.ts';

/**
 * Events that can repeat without bound: whoever holds a callback URL can replay it (each replay of a running
 * job also makes a /status look), a client can re-read a job, and a long job is looked at again and again.
 * Past the first few, each is counted on one tally item of the job instead of adding an item, so a job's
 * trail stays readable however often they happen.
 */
export const TALLIED_EVENTS: ReadonlySet<AuditEventType> = new Set([
  'webhook.received',
  'webhook.duplicate',
  'webhook.unusable',
  'status.polled',
  'status.failed',
  'capture.duplicate',
  'capture.concurrent',
  'links.issued',
]);

/** How many of each tallied type are kept as events of their own before only the tally grows. */
export const TALLY_KEEPS_FIRST = 5;

type AuditDeps = Pick<ServiceDeps, 'jobs' | 'logger' | 'clock'>;

/** An audit event as it is stored, stamped now, with the one id every try of its write uses. */
export function auditEvent(
  deps: Pick<ServiceDeps, 'clock'>,
  jobId: string,
  type: AuditEvent['type'],
  source: AuditEvent['source'],
  detail?: Record<string, unknown>,
  actor?: string,
): { event: AuditEvent; eventId: string } {
  const event: AuditEvent = {
    jobId,
    at: iso(deps.clock.now()),
    type,
    ...(source && { source }),
    // Audit items are kept for good and shown by GET /jobs/{id}: no callback token may reach them.
    ...(detail && { detail: redactValue(detail) }),
    ...(actor && { actor }),
  };
  // One id for every try, so a try whose answer was lost is not written (or counted) twice.
  return { event, eventId: randomUUID() };
}

/**
 * Several events of one job written in one request (a capture's), each in full: none is tallied, so only
 * events that happen once per job, or once per capture, belong here.
 */
export async function auditTogether(
  deps: AuditDeps,
  entries: ReadonlyArray<{ event: AuditEvent; eventId: string }>,
): Promise<void> {
  try {
    await persistently(() => deps.jobs.appendEvents(entries));
  } catch (err) {
    const first = entries[0]?.event;
    deps.logger.error('audit append failed', {
      jobId: first?.jobId,
      types: entries.map((e) => e.event.type),
      error: String(err),
    });
  }
}

export async function audit(
  deps: AuditDeps,
  jobId: string,
  type: AuditEvent['type'],
  source: AuditEvent['source'],
  detail?: Record<string, unknown>,
  actor?: string,
): Promise<void> {
  const { event, eventId } = auditEvent(deps, jobId, type, source, detail, actor);
  try {
    if (TALLIED_EVENTS.has(type)) {
      const seen = await persistently(() => deps.jobs.countEvent(event, eventId));
      if (seen > TALLY_KEEPS_FIRST) return;
    }
    await persistently(() => deps.jobs.appendEvent(event, eventId));
  } catch (err) {
    // The job record is the source of truth; a lost audit line is logged loudly, never fatal.
    deps.logger.error('audit append failed', { jobId, type, error: String(err) });
  }
}

/**
 * The trail as clients read it: a tally is shown once it counts more than the events kept in full (until
 * then those events are all there is, and the tally would repeat them).
 */
export function visibleEvents(events: readonly AuditEvent[]): AuditEvent[] {
  return events.filter((e) => e.count === undefined || e.count > TALLY_KEEPS_FIRST);
}
