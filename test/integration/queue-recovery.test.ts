// A lost submit message in local mode: the message is deleted from the queue, the job is submitted anyway.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../functions/adapters/aws-clients.ts';
import type { PublicJob } from '../../functions/core/results.ts';
import { handler as submitterHandler } from '../../functions/submitter/handler.ts';
import { type QueuePoller, startQueuePoller } from '../../local/queue-poller.ts';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';
import { FAST_CONFIG, FAST_EMULATOR } from '../support/e2e-stack.ts';

describe('a lost submit message (local mode)', () => {
  let stack: LocalStack;
  let dataDir: string;
  let sqs: SQSClient;
  let poller: QueuePoller | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-queue-recovery-'));
    stack = await startLocalStack({
      port: 0,
      dataDir,
      dynamoInMemory: true,
      sweepIntervalMs: 250,
      // Due one second after its estimate: the sweeper looks for lost messages at once.
      config: { ...FAST_CONFIG, QUEUE_RECOVERY_MARGIN_MS: '1000' },
      emulator: FAST_EMULATOR,
    });
    const { stores } = stack;
    sqs = createSqsClient({
      endpoint: stores.sqsEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });
  });
  afterAll(async () => {
    await poller?.stop();
    sqs?.destroy();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const getJob = async (jobId: string) =>
    ((await (await fetch(`${stack.url}/jobs/${jobId}`)).json()) as { job: PublicJob }).job;

  it('re-sends the message of a job left QUEUED, and the job is submitted and archived once', async () => {
    // No submitter while the message is taken away, as if it had never been sent.
    await stack.submitter.stop();
    const response = await fetch(`${stack.url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queue: true, input: { prompt: 'lost' } }),
    });
    expect(response.status).toBe(202);
    const { job } = (await response.json()) as { job: PublicJob };
    const queueUrl = stack.stores.queues.queueUrl;
    let deleted = false;
    while (!deleted) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of Messages) {
        if (!m.Body?.includes(job.jobId)) continue;
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        deleted = true;
      }
    }
    poller = startQueuePoller({ client: sqs, queueUrl, handler: submitterHandler });

    let seen = await getJob(job.jobId);
    while (seen.state !== 'ARCHIVED' && seen.state !== 'REJECTED') {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = await getJob(job.jobId);
    }
    expect(seen.state).toBe('ARCHIVED');
    expect(seen.queueResends).toBe(1);
    const upstream = stack.emulator?.jobs.list().filter((j) => j.id === seen.upstreamId);
    expect(upstream).toHaveLength(1);
    const events = (await (await fetch(`${stack.url}/jobs/${job.jobId}/events`)).json()) as {
      events: { type: string }[];
    };
    expect(events.events.map((e) => e.type)).toContain('submit.resent');
  });
});
