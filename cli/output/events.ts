// A job's audit trail as text lines (`get --events`) or JSON lines (`events`, `get --events --json`).
import type { AuditEvent } from '../api/schemas.ts';
import { truncate } from './format.ts';
import { renderTable } from './table.ts';

export function eventsTable(events: readonly AuditEvent[]): string[] {
  if (events.length === 0) return ['(no audit events)'];
  return renderTable(
    [{ header: 'AT' }, { header: 'EVENT' }, { header: 'SOURCE' }, { header: 'DETAIL' }],
    events.map((e) => [e.at, e.type, e.source ?? '', detailText(e.detail)]),
  );
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
