// The six Lambda functions, each bound to exactly the resources its service uses (the page's: none).
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { sharedEnvironment } from '../function-environment.ts';
import { type StackConfig, SUBMIT_TIMEOUT_SECONDS } from '../stack-config.ts';
import type { ArchiveStorage } from './archive-storage.ts';
import { ArchiverFunction, TABLE_ACCESS } from './archiver-function.ts';
import type { JobEvents } from './job-events.ts';
import {
  SUBMITTER_BATCH_SIZE,
  SUBMITTER_MAX_CONCURRENCY,
  SUBMITTER_RUN_CONCURRENCY,
  SUBMITTER_TIMEOUT,
  type SubmitQueue,
} from './submit-queue.ts';
import type { UpstreamSecrets } from './upstream-secrets.ts';

export interface ArchiverFunctionsProps {
  readonly config: StackConfig;
  /** Where the upstream calls back: the API URL (a token) or the configured custom domain. */
  readonly publicBaseUrl: string;
  readonly storage: ArchiveStorage;
  readonly events: JobEvents;
  readonly secrets: UpstreamSecrets;
  readonly submitQueue: SubmitQueue;
}

/** The sweeper's budget per run; it stops itself before this (context.getRemainingTimeInMillis). */
export const SWEEPER_TIMEOUT = Duration.minutes(5);

/**
 * The runtime's status limits per endpoint (functions/config.ts defaults, below the documented 2000 per 10 s
 * and 400 at once). Each group's sweeper runs in its own container with its own limiter, so each gets its
 * share and the groups together stay under them.
 */
export const SWEEPER_STATUS_LIMITS = { ratePer10s: 1900, concurrency: 300 } as const;

export class ArchiverFunctions extends Construct {
  readonly submit: ArchiverFunction;
  readonly submitter: ArchiverFunction;
  readonly webhook: ArchiverFunction;
  readonly sweeper: ArchiverFunction;
  readonly results: ArchiverFunction;
  readonly browser: ArchiverFunction;

  constructor(scope: Construct, id: string, props: ArchiverFunctionsProps) {
    super(scope, id);
    const { config, storage, events, secrets, submitQueue } = props;
    const common = {
      environment: sharedEnvironment(config, props.publicBaseUrl),
      logRetention: config.logRetentionDays,
    };

    // API Gateway ends the request at 30 s: the function stops first (29 s), and a sync submit's /runsync wait
    // (runsyncWaitSeconds, at most 22 s) leaves at least 7 s for the record, the archive and the answer.
    this.submit = new ArchiverFunction(this, 'Submit', {
      ...common,
      entry: 'submit/handler.ts',
      description:
        'POST /jobs, /jobs/track, /jobs/{jobId}/cancel, /jobs/{jobId}/reconcile: submit, adopt, cancel, settle',
      memorySize: 1024,
      timeout: Duration.seconds(SUBMIT_TIMEOUT_SECONDS),
    })
      .bindJobsTable(storage.table, TABLE_ACCESS.submit)
      .bindArchive(storage.bucket, 'write', storage.archiveKey)
      .bindEventBus(events.bus)
      .bindWebhookSecret(secrets.webhookSecret)
      .bindApiKeySecrets(secrets.apiKeys)
      .bindSubmitQueue(submitQueue.queue);
    this.submit.addEnvironment('RUNSYNC_WAIT_MS', String(config.runsyncWaitSeconds * 1000));

    // The only consumer of the submit queue; it re-sends the messages it defers (a 429, no start time yet).
    this.submitter = new ArchiverFunction(this, 'Submitter', {
      ...common,
      entry: 'submitter/handler.ts',
      description: 'Submit queue: send queued jobs to /run at the fleet-wide rate, one GPU job per message',
      memorySize: 1024,
      timeout: SUBMITTER_TIMEOUT,
    })
      .bindJobsTable(storage.table, TABLE_ACCESS.submitter)
      .bindArchive(storage.bucket, 'write', storage.archiveKey)
      .bindEventBus(events.bus)
      .bindWebhookSecret(secrets.webhookSecret)
      .bindApiKeySecrets(secrets.apiKeys)
      .bindSubmitQueue(submitQueue.queue);
    this.submitter.addEnvironment('QUEUE_RUN_CONCURRENCY', String(SUBMITTER_RUN_CONCURRENCY));
    // /run concurrency, fleet-wide: SUBMITTER_MAX_CONCURRENCY (10) batches at once × QUEUE_RUN_CONCURRENCY
    // (20) /run calls in flight per batch = 200, the documented limit; the rate item spaces their starts.
    this.submitter.addEventSource(
      new SqsEventSource(submitQueue.queue, {
        batchSize: SUBMITTER_BATCH_SIZE,
        // More than 10 messages per batch needs a batching window; one second adds at most that to a start.
        maxBatchingWindow: Duration.seconds(1),
        maxConcurrency: SUBMITTER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );

    // The upstream gives up on a callback after ~10 s and retries; answering later only causes duplicates.
    this.webhook = new ArchiverFunction(this, 'Webhook', {
      ...common,
      entry: 'webhook/handler.ts',
      description: 'POST /webhooks/{jobId}/{token}: verify the token, capture the result',
      memorySize: 1024,
      timeout: Duration.seconds(10),
    })
      .bindJobsTable(storage.table, TABLE_ACCESS.webhook)
      .bindArchive(storage.bucket, 'write', storage.archiveKey)
      .bindEventBus(events.bus)
      .bindWebhookSecret(secrets.webhookSecret)
      .bindApiKeySecrets(secrets.apiKeys);
    // Its /status check must fit in the 10 s budget; when it fails the sweeper looks at once instead.
    this.webhook.addEnvironment('UPSTREAM_TIMEOUT_MS', '3000');

    // One sweep at a time comes from the sweep lease in the jobs table. Reserved concurrency only when asked
    // for: CloudFormation refuses any reservation on accounts whose concurrency quota is below 100 + it.
    this.sweeper = new ArchiverFunction(this, 'Sweeper', {
      ...common,
      entry: 'sweeper/handler.ts',
      description: 'Scheduled: poll due jobs, capture finished results before the upstream forgets them',
      memorySize: 1024,
      timeout: SWEEPER_TIMEOUT,
      reservedConcurrentExecutions: config.sweeperReservedConcurrency,
      // A failed or delayed tick is not worth replaying: the next tick sweeps the same due jobs.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(config.sweepEveryMinutes),
    })
      .bindJobsTable(storage.table, TABLE_ACCESS.sweeper)
      // Reads back the input of a job its requests left unsent, and sends it (core/submit.ts sendRecorded).
      .bindArchive(storage.bucket, 'write', storage.archiveKey, { readInputs: true })
      .bindEventBus(events.bus)
      .bindWebhookSecret(secrets.webhookSecret)
      .bindApiKeySecrets(secrets.apiKeys)
      // Re-sends the message of a job left QUEUED past its estimate (core/queue-recovery.ts).
      .bindSubmitQueue(submitQueue.queue);
    const share = (limit: number) => String(Math.max(1, Math.floor(limit / config.sweepGroups)));
    this.sweeper.addEnvironment('STATUS_RATE_PER_10S', share(SWEEPER_STATUS_LIMITS.ratePer10s));
    this.sweeper.addEnvironment('STATUS_CONCURRENCY', share(SWEEPER_STATUS_LIMITS.concurrency));

    this.results = new ArchiverFunction(this, 'Results', {
      ...common,
      entry: 'results/handler.ts',
      description: 'GET /jobs, /jobs/{jobId}, its events and result, /health: views, audited presigned URLs',
      memorySize: 512,
      timeout: Duration.seconds(10),
    })
      .bindJobsTable(storage.table, TABLE_ACCESS.results)
      .bindArchive(storage.bucket, 'read', storage.archiveKey);

    // Static files bundled into the code (functions/browser/assets.ts): no binding, no access to anything.
    this.browser = new ArchiverFunction(this, 'Browser', {
      ...common,
      entry: 'browser/handler.ts',
      description: 'GET /, /assets/{file}: the archive browser page (static files only)',
      memorySize: 256,
      timeout: Duration.seconds(5),
    });
  }

  /** By construct id, for alarms and dashboards. */
  get all(): Readonly<
    Record<'Submit' | 'Submitter' | 'Webhook' | 'Sweeper' | 'Results' | 'Browser', ArchiverFunction>
  > {
    return {
      Submit: this.submit,
      Submitter: this.submitter,
      Webhook: this.webhook,
      Sweeper: this.sweeper,
      Results: this.results,
      Browser: this.browser,
    };
  }
}
