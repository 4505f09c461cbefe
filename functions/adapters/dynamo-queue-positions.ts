// Queue places per endpoint: one counter item `QUEUE#{endpoint}` in the jobs table (accepted, left).
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QueuePositions } from '../core/queue-ports.ts';

export interface DynamoQueuePositionsOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const queueKey = (endpoint: string) => ({ pk: `QUEUE#${endpoint}`, sk: 'QUEUE' });

/** Atomic ADDs: a place is `accepted − left` right after this job's own count, so no read races it. */
export class DynamoQueuePositions implements QueuePositions {
  constructor(private readonly options: DynamoQueuePositionsOptions) {}

  async accept(endpoint: string): Promise<number> {
    const { Attributes } = await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: queueKey(endpoint),
        UpdateExpression: 'ADD accepted :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const accepted = Number(Attributes?.accepted ?? 1);
    const left = Number(Attributes?.left ?? 0);
    return Math.max(1, accepted - left);
  }

  async leave(endpoint: string): Promise<void> {
    await this.options.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: queueKey(endpoint),
        UpdateExpression: 'ADD #left :one',
        ExpressionAttributeNames: { '#left': 'left' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }
}
