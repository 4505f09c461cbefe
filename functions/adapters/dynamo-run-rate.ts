// The fleet-wide /run rate of each endpoint: one item `RATE#{endpoint}` in the jobs table, a GCRA schedule.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RunRate } from '../core/queue-ports.ts';

export interface DynamoQueueItemsOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Milliseconds between two /run starts of one endpoint (10 000 / rate per 10 s). */
  intervalMs: number;
}

const rateKey = (endpoint: string) => ({ pk: `RATE#${endpoint}`, sk: 'RATE' });

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException ||
  (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/** Contended writes are retried at once with the value read back; a few rounds settle any realistic fleet. */
const MAX_ROUNDS = 8;

/**
 * The item holds `nextStartAt`, the earliest start time not yet handed out (the generic cell rate
 * algorithm's theoretical arrival time). A submitter takes k evenly spaced start times with one conditional
 * write that moves it on by k intervals, so starts across all containers are never closer than the interval.
 * Carries no index attributes, so it never shows up in a sweep or a listing.
 */
export class DynamoRunRate implements RunRate {
  constructor(private readonly options: DynamoQueueItemsOptions) {}

  async take(endpoint: string, count: number, nowMs: number, horizonMs: number): Promise<number[]> {
    const { intervalMs } = this.options;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = await this.read(endpoint);
      const start = Math.max(seen ?? 0, nowMs);
      const fits = Math.floor((nowMs + horizonMs - start) / intervalMs) + 1;
      const granted = Math.min(count, Math.max(0, fits));
      if (granted === 0) return [];
      if (await this.write(endpoint, seen, start + granted * intervalMs))
        return Array.from({ length: granted }, (_, i) => start + i * intervalMs);
    }
    return [];
  }

  async pause(endpoint: string, untilMs: number): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = await this.read(endpoint);
      if (seen !== undefined && seen >= untilMs) return;
      if (await this.write(endpoint, seen, untilMs)) return;
    }
  }

  private async read(endpoint: string): Promise<number | undefined> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: rateKey(endpoint), ConsistentRead: true }),
    );
    return typeof Item?.nextStartAt === 'number' ? Item.nextStartAt : undefined;
  }

  /** Compare-and-set on the value read: false when another submitter moved it first. */
  private async write(endpoint: string, seen: number | undefined, next: number): Promise<boolean> {
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...rateKey(endpoint), nextStartAt: next },
          ...(seen === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'nextStartAt = :seen',
                ExpressionAttributeValues: { ':seen': seen },
              }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
