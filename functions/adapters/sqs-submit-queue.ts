// The submit queue over SQS: messages sent in batches of ten (SendMessageBatch), failed entries retried once.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueuedMessage, SubmitQueue } from '../core/queue-ports.ts';

const SQS_BATCH = 10;
const MAX_DELAY_SECONDS = 900;

export class SqsSubmitQueue implements SubmitQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly QueuedMessage[], delaySeconds = 0): Promise<void> {
    const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(delaySeconds)));
    const batches: QueuedMessage[][] = [];
    for (let i = 0; i < messages.length; i += SQS_BATCH) batches.push(messages.slice(i, i + SQS_BATCH));
    await Promise.all(batches.map((batch) => this.sendBatch(batch, delay, 1)));
  }

  private async sendBatch(batch: QueuedMessage[], delay: number, retries: number): Promise<void> {
    const { Failed = [] } = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: batch.map((message, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(message),
          ...(delay > 0 && { DelaySeconds: delay }),
        })),
      }),
    );
    if (Failed.length === 0) return;
    const again = Failed.flatMap((f) => batch[Number(f.Id)] ?? []);
    if (retries > 0 && !Failed.some((f) => f.SenderFault)) return this.sendBatch(again, delay, retries - 1);
    throw new Error(`SQS refused ${Failed.length} messages: ${Failed[0]?.Code ?? 'unknown'}`);
  }
}
