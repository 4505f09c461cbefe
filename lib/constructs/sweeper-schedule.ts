// The EventBridge rule that starts the sweeper every few minutes.
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SweeperScheduleProps {
  readonly sweeper: IFunction;
  readonly everyMinutes: number;
}

export class SweeperSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: SweeperScheduleProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Rule', {
      description: `Sweep due jobs every ${props.everyMinutes} minute(s)`,
      schedule: Schedule.rate(Duration.minutes(props.everyMinutes)),
    });
    // A tick delivered late is worthless: the next one is already on its way.
    this.rule.addTarget(
      new LambdaFunction(props.sweeper, {
        retryAttempts: 2,
        maxEventAge: Duration.minutes(Math.max(1, props.everyMinutes)),
      }),
    );
  }
}
