// Alarms (lost results, handler errors, a sweeper falling behind, API 5xx, submit dead letters) to an SNS topic, and a dashboard.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Custom metrics the runtime emits in EMF under METRICS_NAMESPACE with the dimension `service`. */
export const APP_METRICS = [
  'JobsArchived',
  'JobsExpired',
  'DuplicateCaptures',
  'WebhooksRejected',
  'AmbiguousSubmits',
  'VerificationMismatches',
  'OldestDueAgeMs',
] as const;
type AppMetric = (typeof APP_METRICS)[number];

/**
 * The sweeper alarms when its oldest due job waited half the look margin: looks come that margin before a
 * result could expire (functions/core/schedule.ts), so a lag past it could lose one. Late enough to be real,
 * early enough to act.
 */
export const SWEEPER_LAG_FRACTION = 0.5;

export interface MonitoringProps {
  readonly metricsNamespace: string;
  readonly serviceName: string;
  readonly retentionMinutes: number;
  /** How long before a result could expire the sweeper looks: the lag it must stay under. */
  readonly lookMarginSeconds: number;
  readonly sweepEveryMinutes: number;
  readonly alarmEmail?: string;
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly httpApi: HttpApi;
  /** The submit queue's dead-letter queue: a message there is a queued job no submitter could send. */
  readonly deadLetterQueue: IQueue;
}

export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly jobsExpiredAlarm: Alarm;
  readonly sweeperBehindAlarm: Alarm;
  readonly ambiguousSubmitsAlarm: Alarm;
  readonly verificationMismatchesAlarm: Alarm;
  readonly apiServerErrorsAlarm: Alarm;
  readonly submitDeadLettersAlarm: Alarm;
  readonly functionErrorAlarms: Readonly<Record<string, Alarm>>;
  /** Every alarm of the stack: the ones the topic policy lets CloudWatch publish for. */
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const fiveMinutes = Duration.minutes(5);
    const appMetric = (metricName: AppMetric, statistic: string, period = fiveMinutes) =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        statistic,
        period,
      });

    // CloudWatch publishes to an encrypted topic only through a customer managed key that lets it in.
    const topicKey = new Key(this, 'TopicKey', {
      description: 'Encrypts the submodel-archiver alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    topicKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    // The key and topic hold nothing once delivered: deleting them loses no data, so no retain policy here.
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'submodel-archiver alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const notify = new SnsAction(this.topic);
    const alarm = (alarmId: string, a: ConstructorParameters<typeof Alarm>[2]) => {
      const created = new Alarm(this, alarmId, a);
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      return created;
    };

    this.jobsExpiredAlarm = alarm('JobsExpired', {
      alarmDescription:
        'A job expired upstream before its result was captured: a result is lost. ' +
        'Check the sweeper logs and the job audit trail.',
      metric: appMetric('JobsExpired', 'Sum'),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.ambiguousSubmitsAlarm = alarm('AmbiguousSubmits', {
      alarmDescription:
        'A /run call timed out or failed with 5xx: the upstream may be running a job whose id the archiver does ' +
        'not know. It is archived if its webhook arrives; otherwise reconcile it (docs/operations.md).',
      metric: appMetric('AmbiguousSubmits', 'Sum'),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.verificationMismatchesAlarm = alarm('VerificationMismatches', {
      alarmDescription:
        'A webhook body archived as delivered differed from what /status returned (background verification): ' +
        'someone holding a callback URL may have posted a forged result. The /status bytes are now the result, ' +
        'the body is kept as evidence (docs/operations.md).',
      metric: appMetric('VerificationMismatches', 'Sum'),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const marginMs = props.lookMarginSeconds * 1000;
    // Several sweeps per period, so one slow sweep does not alarm; a silent sweeper (no data) does.
    const lagPeriod = Duration.minutes(Math.max(5, props.sweepEveryMinutes * 2));
    this.sweeperBehindAlarm = alarm('SweeperBehind', {
      alarmDescription:
        `The oldest due job waited over ${SWEEPER_LAG_FRACTION * 100}% of the ${props.lookMarginSeconds}-second ` +
        `look margin (of the ${props.retentionMinutes}-minute retention), or the sweeper stopped reporting. ` +
        'Results may expire before capture.',
      metric: appMetric('OldestDueAgeMs', 'Maximum', lagPeriod),
      threshold: marginMs * SWEEPER_LAG_FRACTION,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.BREACHING,
    });

    const errorAlarms: Record<string, Alarm> = {};
    for (const [name, fn] of Object.entries(props.functions)) {
      errorAlarms[name] = alarm(`${name}Errors`, {
        alarmDescription: `The ${name} function failed (uncaught error or timeout). See its log group.`,
        metric: fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    this.functionErrorAlarms = errorAlarms;

    this.apiServerErrorsAlarm = alarm('ApiServerErrors', {
      alarmDescription:
        'The HTTP API answered 5xx repeatedly (integration errors, timeouts or throttled functions).',
      metric: props.httpApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.submitDeadLettersAlarm = alarm('SubmitDeadLetters', {
      alarmDescription:
        'A submit-queue message failed every receive and moved to the dead-letter queue: the submitter keeps ' +
        'failing on it (see its log group). The sweeper re-sends or rejects the job; read the message there.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    // enforceSSL writes a topic policy, and a topic policy replaces SNS's default one: without this statement
    // CloudWatch's SNS:Publish is refused and no alarm ever notifies. Only this account's alarms of this stack.
    const allAlarms = [
      this.jobsExpiredAlarm,
      this.ambiguousSubmitsAlarm,
      this.verificationMismatchesAlarm,
      this.sweeperBehindAlarm,
      ...Object.values(errorAlarms),
      this.apiServerErrorsAlarm,
      this.submitDeadLettersAlarm,
    ];
    this.alarms = allAlarms;
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': allAlarms.map((a) => a.alarmArn) },
        },
      }),
    );

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    const fns = Object.entries(props.functions);
    const perFunction = (label: string, metric: (fn: IFunction) => IMetric) =>
      new GraphWidget({ title: label, width: 8, left: fns.map(([, fn]) => metric(fn)) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: '# submodel-archiver\nEvery job submitted must end ARCHIVED; any expiry is a lost result.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Jobs',
        width: 12,
        left: [
          appMetric('JobsArchived', 'Sum'),
          appMetric('JobsExpired', 'Sum'),
          appMetric('AmbiguousSubmits', 'Sum'),
        ],
        right: [appMetric('DuplicateCaptures', 'Sum'), appMetric('WebhooksRejected', 'Sum')],
      }),
      new GraphWidget({
        title: 'Oldest due job (ms)',
        width: 12,
        left: [appMetric('OldestDueAgeMs', 'Maximum', Duration.minutes(1))],
        leftAnnotations: [
          { value: marginMs * SWEEPER_LAG_FRACTION, label: 'alarm' },
          { value: marginMs, label: 'look margin: results may expire past it' },
        ],
      }),
    );
    this.dashboard.addWidgets(
      perFunction('Function errors', (fn) => fn.metricErrors({ statistic: 'Sum' })),
      perFunction('Function duration p99', (fn) => fn.metricDuration({ statistic: 'p99' })),
      perFunction('Function throttles', (fn) => fn.metricThrottles({ statistic: 'Sum' })),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests',
        width: 12,
        left: [props.httpApi.metricCount({ statistic: 'Sum' })],
        right: [
          props.httpApi.metricClientError({ statistic: 'Sum' }),
          props.httpApi.metricServerError({ statistic: 'Sum' }),
        ],
      }),
      new GraphWidget({
        title: 'API latency p99 (ms)',
        width: 12,
        left: [props.httpApi.metricLatency({ statistic: 'p99' })],
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        alarms: [
          this.jobsExpiredAlarm,
          this.sweeperBehindAlarm,
          this.ambiguousSubmitsAlarm,
          this.verificationMismatchesAlarm,
          this.apiServerErrorsAlarm,
          ...Object.values(errorAlarms),
        ],
      }),
    );
  }
}
