// Builders for jobs in a given state, so each test states only what matters to it.
import { monotonicFactory } from 'ulid';
import type { Job } from '../../functions/core/job.ts';

const nextUlid = monotonicFactory();
let counter = 0;

/** A real ULID that sorts by creation order within a test run. */
export function testJobId(): string {
  counter++;
  return nextUlid(Date.parse('2026-11-29T11:59:00.000Z'));
}

export function pendingJob(overrides: Partial<Job> = {}): Job {
  return {
    jobId: testJobId(),
    endpoint: 'default',
    state: 'PENDING',
    origin: 'submitted',
    createdAt: '2026-11-29T11:59:00.000Z',
    submittedAt: '2026-11-29T11:59:00.000Z',
    runAttemptedAt: '2026-11-29T11:59:00.000Z',
    upstreamId: `up-${counter}`,
    upstreamStatus: 'IN_QUEUE',
    inputKey: 'jobs/2026/11/29/x/input.json',
    dueAt: Date.parse('2026-11-29T12:00:00.000Z'),
    ...overrides,
  };
}

/** Stores a PENDING job that is already due, for sweeper tests. */
export async function seedDueJob(
  deps: { jobs: { create(job: Job): Promise<void> }; clock: { now(): number } },
  overrides: Partial<Job> = {},
): Promise<Job> {
  const job = pendingJob({ dueAt: deps.clock.now() - 1000, ...overrides });
  await deps.jobs.create(job);
  return job;
}
