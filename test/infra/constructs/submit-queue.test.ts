// The submit queue: encrypted, TLS only, a dead-letter queue that alarms, drained by the submitter alone at the
// documented /run concurrency.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  SUBMIT_MAX_RECEIVE_COUNT,
  SUBMITTER_MAX_CONCURRENCY,
  SUBMITTER_RUN_CONCURRENCY,
  UPSTREAM_RUN_CONCURRENCY,
} from '../../../lib/constructs/submit-queue.ts';
import { LOCAL_MAX_RECEIVE_COUNT } from '../../../local/stores/queues.ts';
import { defaultSynth } from '../support/synth.ts';
import {
  environmentOf,
  FUNCTION_IDS,
  grantsOf,
  lambdaFunction,
  logicalId,
  resourcesOfType,
} from '../support/template-queries.ts';

const { template } = defaultSynth();
const queueId = logicalId(template, 'AWS::SQS::Queue', 'SubmitQueue');
const dlqId = logicalId(template, 'AWS::SQS::Queue', 'SubmitQueueDeadLetterQueue');

describe('submit queue', () => {
  it('is encrypted and moves a message failing every receive to its dead-letter queue', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    expect(Object.keys(queues).sort()).toEqual([dlqId, queueId].sort());
    for (const q of Object.values(queues)) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queues[queueId]?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: SUBMIT_MAX_RECEIVE_COUNT,
    });
    // Local mode's queue behaves like the deployed one.
    expect(LOCAL_MAX_RECEIVE_COUNT).toBe(SUBMIT_MAX_RECEIVE_COUNT);
  });

  it('keeps a batch invisible for six submitter timeouts, so a running batch is not redelivered', () => {
    const timeout = lambdaFunction(template, 'Submitter').resource.Properties.Timeout as number;
    const queue = resourcesOfType(template, 'AWS::SQS::Queue')[queueId];
    expect(queue?.Properties.VisibilityTimeout).toBe(timeout * 6);
  });

  it('refuses any request without TLS, on both queues', () => {
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('feeds the submitter with partial batch failures, at the documented /run concurrency fleet-wide', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: lambdaFunction(template, 'Submitter').logicalId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: SUBMITTER_MAX_CONCURRENCY },
    });
    const env = environmentOf(template, 'Submitter');
    expect(Number(env.QUEUE_RUN_CONCURRENCY) * SUBMITTER_MAX_CONCURRENCY).toBe(UPSTREAM_RUN_CONCURRENCY);
    expect(Number(env.QUEUE_RUN_CONCURRENCY)).toBe(SUBMITTER_RUN_CONCURRENCY);
    expect(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).toSatisfy(
      (m: object) => Object.keys(m).length === 1,
    );
  });

  it('lets only the submitter receive or delete; submit, the submitter and the sweeper send', () => {
    const queueArn = `<${queueId}.Arn>`;
    for (const id of FUNCTION_IDS) {
      const grants = grantsOf(template, id);
      const consumes = ['sqs:ReceiveMessage', 'sqs:DeleteMessage'].every((a) =>
        grants.get(a)?.includes(queueArn),
      );
      expect([id, consumes]).toEqual([id, id === 'Submitter']);
      const sends = grants.get('sqs:SendMessage')?.includes(queueArn) ?? false;
      expect([id, sends]).toEqual([id, id === 'Submit' || id === 'Submitter' || id === 'Sweeper']);
    }
    expect(environmentOf(template, 'Submit').SUBMIT_QUEUE_URL).toEqual({ Ref: queueId });
  });

  it('alarms on the first message in the dead-letter queue, to the alarm topic', () => {
    const topic = logicalId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
    });
  });
});
