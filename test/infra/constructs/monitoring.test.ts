// Monitoring: alarms for lost results, errors and sweeper lag, an encrypted SNS topic, and a dashboard.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { APP_METRICS, SWEEPER_LAG_FRACTION } from '../../../lib/constructs/monitoring.ts';
import { defaultSynth, variantSynth } from '../support/synth.ts';
import {
  FUNCTION_IDS,
  lambdaFunction,
  logicalId,
  onlyResource,
  resourcesOfType,
} from '../support/template-queries.ts';

const { template } = defaultSynth();
const topic = () => ({ Ref: logicalId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic') });
const appDimension = [{ Name: 'service', Value: 'submodel-archiver' }];

describe('alarms', () => {
  it('fires on the first job that expired before capture', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'SubmodelArchiver',
      MetricName: 'JobsExpired',
      Dimensions: appDimension,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic()],
    });
  });

  it('fires on an ambiguous submit, which may hide a running upstream job to reconcile', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'AmbiguousSubmits',
      Dimensions: appDimension,
      Statistic: 'Sum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic()],
    });
  });

  it('fires when background verification finds a webhook body that /status contradicts', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'VerificationMismatches',
      Dimensions: appDimension,
      Statistic: 'Sum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic()],
    });
  });

  it('fires when the sweeper falls behind (or goes silent) well inside the look margin', () => {
    // Looks come the margin (retention / 6: 5 of 30 minutes) before a result could expire.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldestDueAgeMs',
      Dimensions: appDimension,
      Statistic: 'Maximum',
      Threshold: 5 * 60_000 * SWEEPER_LAG_FRACTION,
      TreatMissingData: 'breaching',
      AlarmActions: [topic()],
    });
    expect(SWEEPER_LAG_FRACTION).toBeLessThan(1);
  });

  it.each(FUNCTION_IDS)('fires on any %s error', (id) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaFunction(template, id).logicalId } }],
      Threshold: 1,
      AlarmActions: [topic()],
    });
  });

  it('fires on repeated API 5xx', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      AlarmActions: [topic()],
    });
  });

  it('notifies the topic on alarm and on recovery', () => {
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topic()]);
      expect(alarm.Properties.OKActions).toEqual([topic()]);
    }
  });
});

describe('alarm topic', () => {
  it('is encrypted with a rotated key that CloudWatch may use, and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MonitoringTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("lets CloudWatch publish, for this account's alarms of this stack only (a topic policy replaces the default)", () => {
    const policy = onlyResource(template, 'AWS::SNS::TopicPolicy');
    expect(policy.Properties.Topics).toEqual([topic()]);
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    const publish = statements.find((s) => s.Sid === 'CloudWatchAlarmsPublish');
    expect(publish).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: topic(),
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    const condition = (publish?.Condition ?? {}) as { ArnLike?: { 'aws:SourceArn': unknown[] } };
    const sourceArns = condition.ArnLike?.['aws:SourceArn'] ?? [];
    const alarmIds = Object.keys(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).sort();
    expect(sourceArns.map((a) => (a as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]).sort()).toEqual(
      alarmIds,
    );
    // The TLS-only deny stays, and nothing else is allowed to anyone.
    expect(statements.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('has no subscription unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    variantSynth().template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('dashboard', () => {
  it('charts every custom metric and the function and API health', () => {
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const metric of APP_METRICS) expect(body).toContain(metric);
    for (const metric of ['Errors', 'Duration', 'Throttles', '5xx', 'Latency'])
      expect(body).toContain(metric);
  });
});
