// Creates the submit queue and its dead-letter queue when missing, the way CDK would have in AWS.
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Receives before a message moves to the dead-letter queue (the CDK stack's own number). */
export const LOCAL_MAX_RECEIVE_COUNT = 5;

export interface SubmitQueues {
  queueUrl: string;
  deadLetterQueueUrl: string;
}

/**
 * CreateQueue is idempotent for equal attributes, so this is safe on every start. A short visibility
 * timeout locally: a message whose submitter stopped comes back in seconds, not minutes.
 */
export async function ensureSubmitQueues(
  client: SQSClient,
  queueName: string,
  visibilityTimeoutSeconds = 30,
): Promise<SubmitQueues> {
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${queueName}-dlq` }));
  const deadLetterQueueUrl = dlq.QueueUrl ?? '';
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: queueName,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: String(LOCAL_MAX_RECEIVE_COUNT),
        }),
      },
    }),
  );
  return { queueUrl: main.QueueUrl ?? '', deadLetterQueueUrl };
}
