// Builders for jobs in a given state, so each test states only what matters to it.
import type { Job } from '../../functions/core/job.ts';

let counter = 0;

/** A ULID-shaped id that sorts by creation order within a test run. */
export function testJobId(): string {
  counter++;
  return `01JDXKQ5N8Y3V7M2R6T4W${counter.toString(32).toUpperCase().padStart(5, '0')}`.slice(0, 26);
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
