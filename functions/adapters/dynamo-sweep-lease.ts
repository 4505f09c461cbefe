// The sweep lease in the jobs table: one item `SWEEP#{group}`, taken and renewed with conditional writes.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SweepLease } from '../core/sweep-lease.ts';

export interface DynamoSweepLeaseOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

const leaseKey = (group: string) => ({ pk: `SWEEP#${group}`, sk: 'SWEEP' });

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException ||
  (err instanceof Error && err.name === 'ConditionalCheckFailedException');

/** Carries no due-index or listing attributes, so it never shows up in a sweep or a listing. */
export class DynamoSweepLease implements SweepLease {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoSweepLeaseOptions) {
    this.db = options.client;
    this.table = options.tableName;
  }

  async take(group: string, owner: string, nowMs: number, leaseMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...leaseKey(group),
            owner,
            leaseUntil: nowMs + leaseMs,
            takenAt: new Date(nowMs).toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner OR leaseUntil < :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner, ':now': nowMs },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async release(group: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: leaseKey(group),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}
