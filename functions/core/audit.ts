// Appends audit events without letting a failed append undo the work it describes.
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from './job.ts';
import { persistently } from './persist.ts';
import { redactValue } from './redaction.ts';
import type { ServiceDeps } from './services.ts';
import { iso } from './services.ts';

export async function audit(
  deps: Pick<ServiceDeps, 'jobs' | 'logger' | 'clock'>,
  jobId: string,
  type: AuditEvent['type'],
  source: AuditEvent['source'],
  detail?: Record<string, unknown>,
): Promise<void> {
  const event: AuditEvent = {
    jobId,
    at: iso(deps.clock.now()),
    type,
    ...(source && { source }),
    // Audit items are kept for good and shown by GET /jobs/{id}: no callback token may reach them.
    ...(detail && { detail: redactValue(detail) }),
  };
  // One id for every try, so a try whose answer was lost is not written twice.
  const eventId = randomUUID();
  try {
    await persistently(() => deps.jobs.appendEvent(event, eventId));
  } catch (err) {
    // The job record is the source of truth; a lost audit line is logged loudly, never fatal.
    deps.logger.error('audit append failed', { jobId, type, error: String(err) });
  }
}
