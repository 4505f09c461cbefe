// A job's audit trail as text lines (`get --events`) or JSON lines (`events`, `get --events --json`).
import type { AuditEvent } from '../api/schemas.ts';
import { shortPrincipal, truncate } from './format.ts';
import { renderTable } from './table.ts';

export function eventsTable(events: readonly AuditEvent[]): string[] {
  if (events.length === 0) return ['(no audit events)'];
  return renderTable(
    [{ header: 'AT' }, { header: 'EVENT' }, { header: 'SOURCE' }, { header: 'ACTOR' }, { header: 'DETAIL' }],
    events.map((e) => [e.at, eventName(e), e.source ?? '', shortPrincipal(e.actor), detailText(e.detail)]),
  );
}

/** A tally of repeats reads `webhook.duplicate ×37000 since <first>`; its detail is the latest one's. */
function eventName(e: AuditEvent): string {
  if (e.count === undefined) return e.type;
  return `${e.type} ×${e.count}${e.firstAt ? ` since ${e.firstAt}` : ''}`;
}

/** `key=value` pairs; objects as compact JSON, long values shortened so a line stays readable. */
export function detailText(detail: Record<string, unknown> | undefined): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${truncate(typeof v === 'string' ? v : JSON.stringify(v), 80)}`)
    .join(' ');
}

export function eventsJsonl(events: readonly AuditEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join('');
}
