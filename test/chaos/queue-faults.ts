// Faults of the submit queue's consumers: lost acks, visibility cut short, handled messages reported failed.
import {
  ChangeMessageVisibilityCommand,
  type DeleteMessageBatchCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { InitializeHandlerOutput, InitializeMiddleware, MetadataBearer } from '@smithy/types';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { QUEUE_FAULT_RATES } from './options.ts';
import { Dice } from './rng.ts';

/** What the consumers met, and what was delivered more than once because of it (or of anything else). */
export interface QueueFaultCounters {
  /** Batches handed to the submitter by the pollers. */
  batches: number;
  messages: number;
  /** Messages received again (ApproximateReceiveCount > 1), whatever the cause. */
  redelivered: number;
  /** DeleteMessageBatch calls dropped (the poller took them as done), and the messages they held. */
  lostAcks: number;
  lostAckMessages: number;
  /** Messages made visible again as their batch started. */
  visibilityCut: number;
  /** Handled messages reported failed (ReportBatchItemFailures). */
  reportedFailed: number;
}

type Handler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export class QueueFaults {
  readonly counters: QueueFaultCounters = {
    batches: 0,
    messages: 0,
    redelivered: 0,
    lostAcks: 0,
    lostAckMessages: 0,
    visibilityCut: 0,
    reportedFailed: 0,
  };
  private readonly dice: Dice;

  constructor(
    seed: number,
    private readonly rates: typeof QUEUE_FAULT_RATES = QUEUE_FAULT_RATES,
  ) {
    this.dice = new Dice(seed, 'queue-faults');
  }

  /** Redeliveries injected: every message the queue will hand out again because of these faults. */
  get injected(): number {
    const c = this.counters;
    return c.lostAckMessages + c.visibilityCut + c.reportedFailed;
  }

  /** A poller's client whose deletes are sometimes lost on the way: answered as done, never applied. */
  attach(client: SQSClient): void {
    const lostAck: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName;
      if (command !== 'DeleteMessageBatchCommand' || !this.dice.chance(this.rates.lostAck)) return next(args);
      const entries = (args.input as DeleteMessageBatchCommandInput).Entries ?? [];
      this.counters.lostAcks++;
      this.counters.lostAckMessages += entries.length;
      const output = { $metadata: {}, Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
      return { output, response: {} } as InitializeHandlerOutput<MetadataBearer>;
    };
    client.middlewareStack.add(lostAck, { step: 'initialize', name: 'chaosLostAck', priority: 'high' });
  }

  /**
   * The submitter as the pollers run it: some messages become visible again as their batch starts (a
   * visibility timeout shorter than the batch's work), and some handled messages are reported failed.
   */
  wrap(handler: Handler, client: SQSClient, queueUrl: string): Handler {
    return async (event) => {
      const c = this.counters;
      c.batches++;
      c.messages += event.Records.length;
      const cut: Promise<unknown>[] = [];
      for (const record of event.Records) {
        if (Number(record.attributes.ApproximateReceiveCount) > 1) c.redelivered++;
        if (!this.dice.chance(this.rates.visibilityCut)) continue;
        const change = new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: 0,
        });
        // A cut that fails (a storage fault) just leaves the message to its batch.
        cut.push(
          client.send(change).then(
            () => c.visibilityCut++,
            () => undefined,
          ),
        );
      }
      await Promise.all(cut);
      const response = await handler(event);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const record of event.Records) {
        if (failed.has(record.messageId) || !this.dice.chance(this.rates.reportedFailed)) continue;
        failed.add(record.messageId);
        c.reportedFailed++;
      }
      return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
    };
  }
}
