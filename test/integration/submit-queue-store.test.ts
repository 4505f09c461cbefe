// The embedded SQS server speaks the current SDK's JSON protocol: the calls the submitter makes, end to end.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../functions/adapters/aws-clients.ts';
import { startFauxqs } from '../../local/stores/fauxqs.ts';
import type { RunningStore } from '../../local/stores/net.ts';
import { ensureSubmitQueues } from '../../local/stores/queues.ts';

const credentials = { accessKeyId: 'queue-test', secretAccessKey: 'queue-test-secret' };

describe('embedded SQS (fauxqs)', () => {
  let store: RunningStore;
  let client: SQSClient;
  beforeAll(async () => {
    store = await startFauxqs({ credentials });
    client = createSqsClient({ endpoint: store.endpoint, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    client.destroy();
    await store.stop();
  });

  it('sends, receives, hands a message back and deletes it in a batch', async () => {
    const { queueUrl } = await ensureSubmitQueues(client, 'round-trip');
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"jobId":"a"}' }));
    const first = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(first.Messages?.map((m) => m.Body)).toEqual(['{"jobId":"a"}']);
    const handle = first.Messages?.[0]?.ReceiptHandle ?? '';
    // A visibility of 0 is how a submitter hands a message back at once (back-off uses a longer one).
    await client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }),
    );
    const again = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const redelivered = again.Messages?.[0];
    expect(redelivered?.Attributes?.ApproximateReceiveCount).toBe('2');
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [{ Id: '0', ReceiptHandle: redelivered?.ReceiptHandle ?? '' }],
      }),
    );
    expect(deleted.Successful?.map((e) => e.Id)).toEqual(['0']);
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
  });

  it('refuses requests not signed with the data folder key', async () => {
    const stranger = createSqsClient({
      endpoint: store.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'other', secretAccessKey: 'other' },
    });
    await expect(
      stranger.send(new GetQueueAttributesCommand({ QueueUrl: `${store.endpoint}/000000000000/round-trip` })),
    ).rejects.toThrow(/signed with the credentials of its data folder/);
    stranger.destroy();
  });
});
