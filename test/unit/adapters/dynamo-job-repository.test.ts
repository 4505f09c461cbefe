import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoJobRepository } from '../../../functions/adapters/dynamo-job-repository.ts';
import { ConcurrentUpdateError, ValidationError } from '../../../functions/core/errors.ts';
import { pendingJob } from '../../support/jobs.ts';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const ddb = mockClient(doc);
const repo = new DynamoJobRepository({ client: doc, tableName: 'jobs', dueShards: 8 });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('DynamoJobRepository', () => {
  beforeEach(() => ddb.reset());

  it('creates a job with its index keys derived from it, and never overwrites one', async () => {
    const job = pendingJob({ dueAt: 5 });
    ddb.on(PutCommand).resolves({});
    await repo.create(job);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'jobs',
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: expect.objectContaining({
        pk: `JOB#${job.jobId}`,
        sk: 'JOB',
        dayShard: expect.stringMatching(/^2026-11-29#(0\d|1[0-5])$/),
        endpointDayShard: expect.stringMatching(/^default#2026-11-29#(0\d|1[0-5])$/),
        dueShard: expect.stringMatching(/^DUE#[0-7]$/),
        dueAt: 5,
      }),
    });
    ddb.on(PutCommand).rejects(conditionFailed());
    await expect(repo.create(job)).rejects.toThrow(ConcurrentUpdateError);
  });

  it('updates conditionally on the states of the state machine, and leaves the due index when announced', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { pk: 'JOB#x', sk: 'JOB', jobId: 'x', state: 'ARCHIVED' } });
    const updated = await repo.apply('x', {
      name: 'test',
      patch: { state: 'ARCHIVED', resultKey: 'k', reason: null, dueAt: null },
      condition: { states: ['SUBMITTING', 'PENDING'], leaseOwner: 'me' },
    });
    expect(updated).toEqual({ jobId: 'x', state: 'ARCHIVED' });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      'attribute_exists(pk) AND #state IN (:s0, :s1) AND #leaseOwner = :owner',
    );
    expect(input?.ExpressionAttributeValues).toMatchObject({
      ':s0': 'SUBMITTING',
      ':s1': 'PENDING',
      ':owner': 'me',
    });
    const removed = Object.entries(input?.ExpressionAttributeNames ?? {})
      .filter(([alias]) => input?.UpdateExpression?.split('REMOVE')[1]?.includes(alias))
      .map(([, name]) => name);
    expect(removed.sort()).toEqual(['dueAt', 'dueShard', 'reason']);
  });

  it('maps a failed condition to ConcurrentUpdateError', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    await expect(repo.reschedule('x', { upstreamStatus: 'IN_PROGRESS', dueAt: 1 })).rejects.toThrow(
      ConcurrentUpdateError,
    );
  });

  it('answers a lost capture claim with the record as it is, not an error', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { pk: 'JOB#x', sk: 'JOB', jobId: 'x', state: 'ARCHIVED' } });
    expect(await repo.claimCapture('x', 'me', 1000, 60_000)).toEqual({
      claimed: false,
      job: { jobId: 'x', state: 'ARCHIVED' },
    });
  });

  it('queries one due shard oldest-first through the sparse index, never scanning', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await repo.queryDue(3, 1234, 50);
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'due',
      KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
      ExpressionAttributeValues: { ':shard': 'DUE#3', ':now': 1234 },
      ScanIndexForward: true,
      Limit: 50,
    });
  });

  it('reports the existing claim of an Idempotency-Key', async () => {
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand).resolves({ Item: { jobId: 'j1', requestHash: 'h1' } });
    expect(
      await repo.claimIdempotencyKey({ key: 'k', requestHash: 'h2', jobId: 'j2', nowMs: 0, expiresAtMs: 1 }),
    ).toEqual({
      claimed: false,
      jobId: 'j1',
      requestHash: 'h1',
    });
  });

  it('resumes an events page after the sort key its cursor names, and refuses one it did not issue', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [{ pk: 'JOB#x', sk: 'EVENT#2026-11-29T12:00:00.000Z#a', jobId: 'x', type: 'created' }],
      LastEvaluatedKey: { pk: 'JOB#x', sk: 'EVENT#2026-11-29T12:00:00.000Z#a' },
    });
    const page = await repo.listEventPage('x', 1);
    expect(page.events).toEqual([{ jobId: 'x', type: 'created' }]);
    await repo.listEventPage('x', 1, page.cursor);
    expect(ddb.commandCalls(QueryCommand)[1]?.args[0].input).toMatchObject({
      Limit: 1,
      ExclusiveStartKey: { pk: 'JOB#x', sk: 'EVENT#2026-11-29T12:00:00.000Z#a' },
    });
    for (const forged of ['garbage', Buffer.from('JOB').toString('base64url')]) {
      await expect(repo.listEventPage('x', 1, forged)).rejects.toThrow(ValidationError);
    }
  });
});
