// The production stack: storage, secrets, events, functions, API, sweeper schedule and monitoring.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { sweepGroupNames } from '../functions/core/sweep-groups.ts';
import { ArchiveStorage } from './constructs/archive-storage.ts';
import { ArchiverApi } from './constructs/archiver-api.ts';
import { ArchiverFunctions } from './constructs/archiver-functions.ts';
import { JobEvents } from './constructs/job-events.ts';
import { Monitoring } from './constructs/monitoring.ts';
import { SubmitQueue } from './constructs/submit-queue.ts';
import { SweeperSchedule } from './constructs/sweeper-schedule.ts';
import { UpstreamSecrets } from './constructs/upstream-secrets.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { lookMarginSecondsOf, type StackConfig } from './stack-config.ts';

export interface ArchiverStackProps extends StackProps {
  readonly config: StackConfig;
}

export class ArchiverStack extends Stack {
  readonly storage: ArchiveStorage;
  readonly secrets: UpstreamSecrets;
  readonly events: JobEvents;
  readonly api: ArchiverApi;
  readonly submitQueue: SubmitQueue;
  readonly functions: ArchiverFunctions;
  readonly schedule: SweeperSchedule;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: ArchiverStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.storage = new ArchiveStorage(this, 'Storage', config);
    this.secrets = new UpstreamSecrets(this, 'Secrets', { endpoints: config.endpoints });
    this.events = new JobEvents(this, 'Events');
    this.submitQueue = new SubmitQueue(this, 'SubmitQueue');
    this.api = new ArchiverApi(this, 'Api', {
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      webhookRateLimit: config.webhookRateLimit,
      webhookBurstLimit: config.webhookBurstLimit,
      logRetention: config.logRetentionDays,
    });
    // The API exists before its routes, so functions can carry its URL without a dependency cycle.
    this.functions = new ArchiverFunctions(this, 'Functions', {
      config,
      publicBaseUrl: this.api.url,
      storage: this.storage,
      events: this.events,
      secrets: this.secrets,
      submitQueue: this.submitQueue,
    });
    this.api.connect(this.functions);
    this.schedule = new SweeperSchedule(this, 'SweeperSchedule', {
      sweeper: this.functions.sweeper,
      everyMinutes: config.sweepEveryMinutes,
      groups: sweepGroupNames(config.sweepGroups),
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      metricsNamespace: config.metricsNamespace,
      serviceName: config.serviceName,
      retentionMinutes: config.retentionMinutes,
      lookMarginSeconds: lookMarginSecondsOf(config),
      sweepEveryMinutes: config.sweepEveryMinutes,
      alarmEmail: config.alarmEmail,
      functions: this.functions.all,
      httpApi: this.api.httpApi,
      deadLetterQueue: this.submitQueue.deadLetterQueue,
    });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: this.api.url });
    new CfnOutput(this, 'BrowserUrl', {
      description: 'The archive browser (sign in with AWS credentials allowed by ClientPolicyArn)',
      value: this.api.browserUrl,
    });
    if (this.api.clientPolicy) {
      new CfnOutput(this, 'ClientPolicyArn', {
        description: 'Managed policy to attach to callers of the /jobs routes',
        value: this.api.clientPolicy.managedPolicyArn,
      });
    }
    new CfnOutput(this, 'ArchiveBucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'JobsTableName', { value: this.storage.table.tableName });
    new CfnOutput(this, 'SubmitQueueUrl', { value: this.submitQueue.queue.queueUrl });
    new CfnOutput(this, 'SubmitDeadLetterQueueUrl', { value: this.submitQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new CfnOutput(this, 'WebhookSecretArn', {
      description: 'HMAC key of the webhook callback tokens (rotate by hand, see docs/deploy.md)',
      value: this.secrets.webhookSecret.secretArn,
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    acknowledgeNagFindings(this);
  }
}
