// Chaos fix: an audit event outlasts a store error beyond the SDK's retries, and is never written twice.
import { beforeEach, describe, expect, it } from 'vitest';
import { audit } from '../../../functions/core/audit.ts';
import type { AuditEvent } from '../../../functions/core/job.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';

describe('audit under store failures (chaos fix)', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
  });

  it('retries the append with one event id until the store takes it', async () => {
    const ids: Array<string | undefined> = [];
    const append = deps.jobs.appendEvent.bind(deps.jobs);
    let failures = 2;
    deps.jobs.appendEvent = async (event: AuditEvent, eventId?: string) => {
      ids.push(eventId);
      if (failures-- > 0)
        throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
      return append(event, eventId);
    };
    await audit(deps, 'job-1', 'archived', 'webhook', { upstreamStatus: 'COMPLETED' });
    expect(deps.jobs.eventTypes('job-1')).toEqual(['archived']);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('still never fails the work it describes when the store stays down', async () => {
    deps.jobs.appendEvent = async () => {
      throw new Error('down');
    };
    await expect(audit(deps, 'job-1', 'archived', 'webhook')).resolves.toBeUndefined();
    expect(deps.logger.lines.some((l) => l.message === 'audit append failed')).toBe(true);
  }, 10_000);
});
