// The submit queue's adapters (SQS, the rate and place items), built on first use; local mode injects its own.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getDynamoDocumentClient, getSqsClient } from '../adapters/aws-clients.ts';
import { DynamoQueuePositions } from '../adapters/dynamo-queue-positions.ts';
import { DynamoRunRate } from '../adapters/dynamo-run-rate.ts';
import { SqsSubmitQueue } from '../adapters/sqs-submit-queue.ts';
import type { Config } from '../config.ts';
import { runIntervalMs } from '../core/enqueue.ts';
import { QueueUnavailableError } from '../core/errors.ts';
import type { QueueDeps } from '../core/queue-ports.ts';

let injected: QueueDeps | undefined;
let own: QueueDeps | undefined;

/** Local mode and tests: these queue adapters for every handler of the process (undefined: back to the own). */
export function setQueueParts(value: QueueDeps | undefined): void {
  injected = value;
}

/** Builds the queue adapters over the given clients (local mode) or the process-wide ones. */
export function createQueueParts(
  config: Config,
  clients: { sqs?: SQSClient; dynamo?: DynamoDBDocumentClient } = {},
): QueueDeps {
  const url = config.SUBMIT_QUEUE_URL;
  const dynamo = clients.dynamo ?? getDynamoDocumentClient();
  return {
    queue: url
      ? new SqsSubmitQueue(clients.sqs ?? getSqsClient(), url)
      : {
          send: async () => {
            throw new QueueUnavailableError('this deployment has no submit queue (SUBMIT_QUEUE_URL)');
          },
        },
    runRate: new DynamoRunRate({
      client: dynamo,
      tableName: config.JOBS_TABLE,
      intervalMs: runIntervalMs({ config }),
    }),
    positions: new DynamoQueuePositions({ client: dynamo, tableName: config.JOBS_TABLE }),
  };
}

export function queueParts(config: Config): QueueDeps {
  if (injected) return injected;
  own ??= createQueueParts(config);
  return own;
}
