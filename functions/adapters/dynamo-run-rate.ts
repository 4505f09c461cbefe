// The fleet-wide /run rate of each endpoint: one item `RATE#{endpoint}` in the jobs table, a GCRA schedule.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type EndpointPause, nextPause, pauseEnd } from '../core/endpoint-backoff.ts';
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

/** What the item holds: the next start time not handed out, and the endpoint's latest 429 pause. */
interface RateItem {
  nextStartAt?: number;
  pause?: EndpointPause;
}

/**
 * The item holds `nextStartAt`, the earliest start time not yet handed out (the generic cell rate
 * algorithm's theoretical arrival time). A submitter takes k evenly spaced start times with one conditional
 * write that moves it on by k intervals, so starts across all containers are never closer than the interval.
 * A 429 pauses every container at once: `nextStartAt` moves to the pause's end, kept with the pause itself
 * (`pausedAt`, `pauseMs`) so the next 429 can tell an echo from a still-full upstream. Carries no index
 * attributes, so it never shows up in a sweep or a listing.
 */
export class DynamoRunRate implements RunRate {
  constructor(private readonly options: DynamoQueueItemsOptions) {}

  async take(endpoint: string, count: number, nowMs: number, horizonMs: number): Promise<number[]> {
    const { intervalMs } = this.options;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = await this.read(endpoint);
      const start = Math.max(seen.nextStartAt ?? 0, nowMs);
      const fits = Math.floor((nowMs + horizonMs - start) / intervalMs) + 1;
      const granted = Math.min(count, Math.max(0, fits));
      if (granted === 0) return [];
      const next = { ...seen, nextStartAt: start + granted * intervalMs };
      if (await this.write(endpoint, seen, next))
        return Array.from({ length: granted }, (_, i) => start + i * intervalMs);
    }
    return [];
  }

  async backOff(endpoint: string, startedAt: number, nowMs: number, retryAfterMs: number): Promise<number> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const seen = await this.read(endpoint);
      const pause = nextPause(seen.pause, startedAt, nowMs, retryAfterMs);
      const resumeAt = Math.max(seen.nextStartAt ?? 0, pauseEnd(pause ?? seen.pause) ?? nowMs);
      if (!pause) return resumeAt;
      if (await this.write(endpoint, seen, { nextStartAt: resumeAt, pause })) return resumeAt;
    }
    // Every round lost a race to other submitters' writes: they are moving the item, this 429 included.
    return pauseEnd((await this.read(endpoint)).pause) ?? nowMs + retryAfterMs;
  }

  async lastPause(endpoint: string): Promise<EndpointPause | undefined> {
    return (await this.read(endpoint)).pause;
  }

  private async read(endpoint: string): Promise<RateItem> {
    const { Item } = await this.options.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: rateKey(endpoint), ConsistentRead: true }),
    );
    const nextStartAt = typeof Item?.nextStartAt === 'number' ? Item.nextStartAt : undefined;
    const pause =
      typeof Item?.pausedAt === 'number' && typeof Item.pauseMs === 'number'
        ? { at: Item.pausedAt, ms: Item.pauseMs }
        : undefined;
    return { nextStartAt, pause };
  }

  /** Compare-and-set on the item as read: false when another submitter moved it first. */
  private async write(endpoint: string, seen: RateItem, next: RateItem): Promise<boolean> {
    const condition: string[] = [];
    const values: Record<string, number> = {};
    if (seen.nextStartAt === undefined) condition.push('attribute_not_exists(nextStartAt)');
    else {
      condition.push('nextStartAt = :seen');
      values[':seen'] = seen.nextStartAt;
    }
    if (seen.pause === undefined) condition.push('attribute_not_exists(pausedAt)');
    else {
      condition.push('pausedAt = :pausedAt AND pauseMs = :pauseMs');
      values[':pausedAt'] = seen.pause.at;
      values[':pauseMs'] = seen.pause.ms;
    }
    const pause = next.pause ? { pausedAt: next.pause.at, pauseMs: next.pause.ms } : {};
    try {
      await this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...rateKey(endpoint), nextStartAt: next.nextStartAt, ...pause },
          ConditionExpression: condition.join(' AND '),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
