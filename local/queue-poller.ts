// Local stand-in for Lambda's SQS event source: long-polls the submit queue and hands batches to the handler.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface QueuePollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Batches handled at once (Lambda's concurrent invocations). Default 2. */
  concurrency?: number;
  /** Messages per batch, as the event source's batch size. Default 10. */
  batchSize?: number;
  onError?: (error: unknown) => void;
}

export interface QueuePoller {
  /** Stops polling and waits for batches in flight. */
  stop(): Promise<void>;
}

/**
 * Like the event source mapping: messages the handler reports in batchItemFailures stay in the queue and come
 * back after their visibility timeout; the rest are deleted. A handler that throws fails the whole batch.
 */
export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  const { client, queueUrl, handler, concurrency = 2, batchSize = 10 } = options;
  let stopping = false;
  const poll = async () => {
    while (!stopping) {
      try {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
        );
        if (Messages.length === 0) continue;
        const event: SQSEvent = {
          Records: Messages.map((m) => ({
            messageId: m.MessageId ?? '',
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            attributes: {
              ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
              SentTimestamp: m.Attributes?.SentTimestamp ?? '0',
              SenderId: 'local',
              ApproximateFirstReceiveTimestamp: String(Date.now()),
            },
            messageAttributes: {},
            md5OfBody: m.MD5OfBody ?? '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:local:000000000000:submit',
            awsRegion: 'local',
          })),
        };
        let failed: Set<string>;
        try {
          const response = await handler(event);
          failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        } catch (error) {
          options.onError?.(error);
          continue;
        }
        const done = event.Records.filter((r) => !failed.has(r.messageId));
        if (done.length)
          await client.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
      } catch (error) {
        if (stopping) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, poll);
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}
