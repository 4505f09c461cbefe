// A webhook capture's storage requests: the lease taken as the job's read, the capture's audit lines written together.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { JobRepository } from '../../../functions/core/ports.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const completed = readFileSync('test/fixtures/webhook/completed.json');
const UP = (JSON.parse(completed.toString()) as { id: string }).id;

/** The repository methods a webhook called, in order. */
function recorded(deps: TestDeps): string[] {
  const calls: string[] = [];
  const jobs = deps.jobs;
  deps.jobs = new Proxy(jobs, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'apply') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as JobRepository & typeof jobs;
  return calls;
}

describe('a webhook capture’s round trips', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps({ WEBHOOK_VERIFICATION: 'trust' });
  });

  const deliver = async (overrides = {}) => {
    const job = pendingJob({ upstreamId: UP, ...overrides });
    await deps.jobs.create(job);
    const calls = recorded(deps);
    const outcome = await receiveWebhook(deps, {
      jobId: job.jobId,
      token: signWebhookToken(WEBHOOK_SECRET, job.jobId),
      contentType: 'application/json',
      body: completed,
    });
    return { job, calls, outcome };
  };

  it('reads the job by taking its lease, and writes the received and archived lines in one request', async () => {
    const { job, calls, outcome } = await deliver();
    expect(outcome).toBe('archived');
    expect(calls).toEqual(['claimCapture', 'archive', 'appendEvents', 'markAnnounced']);
    expect(deps.jobs.eventTypes(job.jobId)).toEqual(['webhook.received', 'archived']);
    const stored = await deps.jobs.get(job.jobId);
    expect(stored).toMatchObject({ state: 'ARCHIVED', captureSource: 'webhook' });
    expect(stored?.announcePending).toBeUndefined();
    expect(stored?.leaseOwner).toBeUndefined();
    expect(deps.events.published.map((e) => e.type)).toEqual(['Job Archived']);
  });

  it('gives the lease back at once when the body is not archived after all, and still audits it', async () => {
    // A final body for another upstream job: unusable, so /status decides.
    const { job, calls } = await deliver({ upstreamId: 'someone-else' });
    expect(calls.slice(0, 2)).toEqual(['claimCapture', 'releaseLease']);
    expect(deps.jobs.eventTypes(job.jobId).slice(0, 2)).toEqual(['webhook.received', 'webhook.unusable']);
  });

  it('takes no lease with the read where every body is confirmed with /status', async () => {
    deps = testDeps({ WEBHOOK_VERIFICATION: 'strict' });
    const { calls } = await deliver();
    expect(calls[0]).toBe('get');
    expect(calls).not.toContain('releaseLease');
  });

  it('counts a delivery for a settled job as a duplicate, its lease attempt changing nothing', async () => {
    await deliver();
    const second = await receiveWebhook(deps, {
      jobId: [...deps.jobs.jobs.keys()][0] ?? '',
      token: signWebhookToken(WEBHOOK_SECRET, [...deps.jobs.jobs.keys()][0] ?? ''),
      contentType: 'application/json',
      body: completed,
    });
    expect(second).toBe('duplicate');
    expect(deps.events.published).toHaveLength(1);
  });
});
