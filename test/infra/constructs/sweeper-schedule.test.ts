// The sweeper's schedules: one rate rule per group of due shards, each sending its group, no stale deliveries.
import { describe, expect, it } from 'vitest';
import { defaultSynth, variantSynth } from '../support/synth.ts';
import { environmentOf, lambdaFunction, resourcesOfType } from '../support/template-queries.ts';

const GROUPS = ['0of4', '1of4', '2of4', '3of4'];

describe('sweeper schedule', () => {
  it('starts the sweeper every minute once per group, each invocation naming its group', () => {
    const { template } = defaultSynth();
    const sweeper = lambdaFunction(template, 'Sweeper').logicalId;
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(GROUPS.length);
    const inputs = rules.map((rule) => {
      expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
      const [target] = rule.Properties.Targets as Record<string, unknown>[];
      expect(target).toMatchObject({
        Arn: { 'Fn::GetAtt': [sweeper, 'Arn'] },
        RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
      });
      return JSON.parse(String(target?.Input)).group;
    });
    expect(inputs.sort()).toEqual(GROUPS);
  });

  it('lets only those rules invoke the sweeper, one permission each', () => {
    const { template } = defaultSynth();
    const sweeper = lambdaFunction(template, 'Sweeper').logicalId;
    const fromEvents = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'events.amazonaws.com',
    );
    expect(fromEvents).toHaveLength(GROUPS.length);
    for (const permission of fromEvents)
      expect(permission.Properties).toMatchObject({
        FunctionName: { 'Fn::GetAtt': [sweeper, 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^SweeperScheduleRule/), 'Arn'] },
      });
  });

  it('shares the status limits out among the groups, so together they stay under the upstream limit', () => {
    const { template } = defaultSynth();
    expect(environmentOf(template, 'Sweeper')).toMatchObject({
      SWEEP_GROUPS: '4',
      STATUS_RATE_PER_10S: '475',
      STATUS_CONCURRENCY: '75',
    });
  });

  it('follows sweepEveryMinutes', () => {
    const { template } = variantSynth();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 120 });
  });
});
