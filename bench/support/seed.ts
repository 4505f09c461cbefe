// Seeding the jobs table directly (BatchWriteItem), in the exact item layout the repository writes.
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { jobItem } from '../../functions/adapters/job-items.ts';
import type { Job } from '../../functions/core/job.ts';
import { sleep } from './timing.ts';

const nextUlid = monotonicFactory();
const BATCH = 25;

/** A fresh ULID job id, increasing within the process like the submit service's. */
export const benchJobId = (): string => nextUlid();

/** A PENDING job that the upstream knows as `upstreamId`, watched from `dueAt` on. */
export function pendingJob(upstreamId: string, dueAt: number, overrides: Partial<Job> = {}): Job {
  const jobId = benchJobId();
  const created = new Date(Date.now() - 60_000).toISOString();
  return {
    jobId,
    endpoint: 'default',
    state: 'PENDING',
    origin: 'submitted',
    createdAt: created,
    submittedAt: created,
    runAttemptedAt: created,
    upstreamId,
    upstreamStatus: 'IN_QUEUE',
    inputKey: `jobs/bench/${jobId}/input.json`,
    inputBytes: 64,
    dueAt,
    ...overrides,
  };
}

/** An ARCHIVED job as a capture leaves it (no due-index keys), for filling the table with history. */
export function archivedJob(createdAt: string): Job {
  const jobId = benchJobId();
  return {
    jobId,
    endpoint: 'default',
    state: 'ARCHIVED',
    origin: 'submitted',
    createdAt,
    submittedAt: createdAt,
    runAttemptedAt: createdAt,
    upstreamId: `${jobId.toLowerCase()}-u1`,
    upstreamStatus: 'COMPLETED',
    inputKey: `jobs/bench/${jobId}/input.json`,
    inputBytes: 64,
    archivedAt: createdAt,
    finishedAt: createdAt,
    captureSource: 'webhook',
    resultKey: `jobs/bench/${jobId}/result.json`,
    resultBytes: 900,
    artifacts: [],
    delayTime: 1200,
    executionTime: 4100,
  };
}

/** Writes the jobs with BatchWriteItem, `parallel` batches in flight, retrying unprocessed items. */
export async function seedJobs(
  db: DynamoDBDocumentClient,
  table: string,
  jobs: readonly Job[],
  shards: number,
  parallel = 8,
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < jobs.length; i += BATCH) {
    batches.push(jobs.slice(i, i + BATCH).map((job) => jobItem(job, shards)));
  }
  let next = 0;
  const worker = async () => {
    for (let b = next++; b < batches.length; b = next++) {
      let items = batches[b] ?? [];
      for (let attempt = 0; items.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
        const out = await db.send(
          new BatchWriteCommand({
            RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
          }),
        );
        const left = out.UnprocessedItems?.[table] ?? [];
        items = left.flatMap((request) => (request.PutRequest?.Item ? [request.PutRequest.Item] : []));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, batches.length) }, worker));
}
