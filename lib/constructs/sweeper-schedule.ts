// The EventBridge rules that start the sweeper every few minutes: one per group of due shards.
import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SweeperScheduleProps {
  readonly sweeper: IFunction;
  readonly everyMinutes: number;
  /** Group names (functions/core/sweep-groups.ts): each rule sends `{group}` as the sweeper's event. */
  readonly groups: readonly string[];
}

/**
 * One rule per group, each with its own invocation every tick: a group with a backlog never delays another
 * (each sweeps under its own lease, `SWEEP#{group}`), and every group is started on every tick.
 */
export class SweeperSchedule extends Construct {
  readonly rules: readonly Rule[];

  constructor(scope: Construct, id: string, props: SweeperScheduleProps) {
    super(scope, id);
    this.rules = props.groups.map((group, index) => {
      const rule = new Rule(this, index === 0 ? 'Rule' : `Rule${group}`, {
        description: `Sweep due jobs of shard group ${group} every ${props.everyMinutes} minute(s)`,
        schedule: Schedule.rate(Duration.minutes(props.everyMinutes)),
      });
      // A tick delivered late is worthless: the next one is already on its way.
      rule.addTarget(
        new LambdaFunction(props.sweeper, {
          event: RuleTargetInput.fromObject({ group }),
          retryAttempts: 2,
          maxEventAge: Duration.minutes(Math.max(1, props.everyMinutes)),
        }),
      );
      return rule;
    });
  }
}
