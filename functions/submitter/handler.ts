// Lambda fed by the submit queue (SQS event source): sends queued jobs, reports the messages to redeliver.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { jobEvents } from '../composition/event-parts.ts';
import { functionRuntime } from '../composition/function-runtime.ts';
import { queueParts } from '../composition/queue-parts.ts';
import { webhookSecret } from '../composition/secret-parts.ts';
import { dynamoJobs, s3Archive } from '../composition/storage-parts.ts';
import { queuedUpstream, urlFetcher } from '../composition/upstream-parts.ts';
import { drainBatch } from '../core/submitter.ts';

const getRuntime = functionRuntime('submitter', {
  jobs: dynamoJobs,
  archive: s3Archive,
  upstream: queuedUpstream,
  events: jobEvents,
  webhookSecret,
  urlFetcher,
});

/** Partial batch failures (ReportBatchItemFailures): only the listed messages come back. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const rt = getRuntime();
  const messages = event.Records.map((r) => ({ messageId: r.messageId, body: r.body }));
  const result = await drainBatch(rt, queueParts(rt.config), messages);
  rt.logger.info('submit batch drained', {
    received: messages.length,
    sent: result.sent,
    deferred: result.deferred,
    skipped: result.skipped,
    failed: result.failedMessageIds.length,
  });
  return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
}
