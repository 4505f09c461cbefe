// The sweeper's schedule: a rate rule (configurable) targeting the sweeper, with no stale deliveries.
import { describe, expect, it } from 'vitest';
import { defaultSynth, variantSynth } from '../support/synth.ts';
import { lambdaFunction, resourcesOfType } from '../support/template-queries.ts';

describe('sweeper schedule', () => {
  it('starts the sweeper every minute by default', () => {
    const { template } = defaultSynth();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [lambdaFunction(template, 'Sweeper').logicalId, 'Arn'] },
          Id: 'Target0',
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
        },
      ],
    });
  });

  it('lets only that rule invoke the sweeper', () => {
    const { template } = defaultSynth();
    const sweeper = lambdaFunction(template, 'Sweeper').logicalId;
    const fromEvents = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'events.amazonaws.com',
    );
    expect(fromEvents).toHaveLength(1);
    expect(fromEvents[0]?.Properties).toMatchObject({
      FunctionName: { 'Fn::GetAtt': [sweeper, 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^SweeperScheduleRule/), 'Arn'] },
    });
  });

  it('follows sweepEveryMinutes', () => {
    const { template } = variantSynth();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 120 });
  });
});
