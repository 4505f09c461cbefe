// Chaos fix: a write whose answer was lost is recognised when the SDK's retry fails its own condition.
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoJobRepository } from '../../../functions/adapters/dynamo-job-repository.ts';
import { jobItem } from '../../../functions/adapters/job-items.ts';
import { ConcurrentUpdateError } from '../../../functions/core/errors.ts';
import { pendingJob } from '../../support/jobs.ts';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const ddb = mockClient(doc);
const repo = new DynamoJobRepository({ client: doc, tableName: 'jobs', dueShards: 8 });

/** The failure the SDK surfaces when its second attempt finds the first attempt's write already there. */
const conditionFailedOnRetry = (attempts = 2) =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { attempts } });

describe('DynamoJobRepository under retried writes (chaos fix)', () => {
  beforeEach(() => ddb.reset());

  it('takes an update whose first attempt landed for its own, not for a concurrent one', async () => {
    const archivedAt = '2026-11-29T12:00:01.234Z';
    ddb.on(UpdateCommand).rejects(conditionFailedOnRetry());
    ddb.on(GetCommand).resolves({
      Item: { pk: 'JOB#x', sk: 'JOB', jobId: 'x', state: 'ARCHIVED', archivedAt, resultKey: 'k' },
    });
    const updated = await repo.apply('x', {
      name: 'archive',
      patch: { state: 'ARCHIVED', archivedAt, resultKey: 'k', leaseOwner: null },
      condition: { states: ['SUBMITTING', 'PENDING'], leaseOwner: 'me' },
    });
    expect(updated).toMatchObject({ jobId: 'x', state: 'ARCHIVED', archivedAt });
  });

  it('still reports a real conflict: another writer, or a first attempt', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailedOnRetry());
    ddb.on(GetCommand).resolves({
      Item: {
        pk: 'JOB#x',
        sk: 'JOB',
        jobId: 'x',
        state: 'ARCHIVED',
        archivedAt: 'someone else',
        resultKey: 'k',
      },
    });
    const patch = { state: 'ARCHIVED' as const, archivedAt: 'mine', resultKey: 'k' };
    const transition = { name: 'archive', patch, condition: { states: ['PENDING' as const] } };
    await expect(repo.apply('x', transition)).rejects.toThrow(ConcurrentUpdateError);
    // Not retried by the SDK: nothing of ours can have landed, so the item is not even read.
    ddb.reset();
    ddb.on(UpdateCommand).rejects(conditionFailedOnRetry(1));
    await expect(repo.apply('x', transition)).rejects.toThrow(ConcurrentUpdateError);
    expect(ddb).toHaveReceivedCommandTimes(GetCommand, 0);
  });

  it('conditions the run claim on the field being absent', async () => {
    ddb
      .on(UpdateCommand)
      .resolves({ Attributes: { pk: 'JOB#x', sk: 'JOB', jobId: 'x', state: 'SUBMITTING' } });
    await repo.claimRun('x', { runAttemptedAt: 'now' });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe(
      'attribute_exists(pk) AND #state IN (:s0) AND attribute_not_exists(#a0)',
    );
    expect(input?.ExpressionAttributeNames?.['#a0']).toBe('runAttemptedAt');
  });

  it('takes a create whose first attempt landed for its own', async () => {
    const job = pendingJob({ state: 'SUBMITTING' });
    ddb.on(PutCommand).rejects(conditionFailedOnRetry());
    ddb.on(GetCommand).resolves({ Item: jobItem(job, 8) });
    await expect(repo.create(job)).resolves.toBeUndefined();
    ddb.on(GetCommand).resolves({ Item: jobItem({ ...job, createdAt: '2026-11-29T11:59:59.999Z' }, 8) });
    await expect(repo.create(job)).rejects.toThrow(ConcurrentUpdateError);
  });

  it('appends an event once per id, whoever wrote it first', async () => {
    ddb.on(PutCommand).rejects(conditionFailedOnRetry());
    await expect(
      repo.appendEvent({ jobId: 'x', at: '2026-11-29T12:00:00.000Z', type: 'archived' }, 'event-1'),
    ).resolves.toBeUndefined();
    const item = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item?.sk).toBe('EVENT#2026-11-29T12:00:00.000Z#event-1');
  });

  it('takes its own idempotency claim, landed by a lost attempt, for a claim', async () => {
    const claim = { key: 'key-12345678', requestHash: 'h', jobId: 'mine', nowMs: 0, expiresAtMs: 1 };
    ddb.on(PutCommand).rejects(conditionFailedOnRetry());
    ddb.on(GetCommand).resolves({ Item: { jobId: 'mine', requestHash: 'h' } });
    await expect(repo.claimIdempotencyKey(claim)).resolves.toEqual({
      claimed: true,
    });
    ddb.on(GetCommand).resolves({ Item: { jobId: 'theirs', requestHash: 'h' } });
    await expect(repo.claimIdempotencyKey(claim)).resolves.toEqual({
      claimed: false,
      jobId: 'theirs',
      requestHash: 'h',
    });
  });
});
