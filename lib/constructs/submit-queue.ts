// The submit queue (SQS, SSE, TLS only) between POST /jobs "queue": true and the submitter, and its dead-letter queue.
import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Receives before a message moves to the dead-letter queue (local/stores/queues.ts uses the same number). */
export const SUBMIT_MAX_RECEIVE_COUNT = 5;

/** The submitter's budget per batch: a batch waits at most QUEUE_HORIZON_MS for its start times, then /run. */
export const SUBMITTER_TIMEOUT = Duration.seconds(60);

/**
 * The fleet's /run concurrency: at most this many /run calls in flight across all submitters. The event
 * source runs SUBMITTER_MAX_CONCURRENCY batches at once, each with at most SUBMITTER_RUN_CONCURRENCY /run
 * calls in flight (QUEUE_RUN_CONCURRENCY): 10 × 20 = 200, the documented limit (docs/scale.md).
 */
export const UPSTREAM_RUN_CONCURRENCY = 200;
export const SUBMITTER_RUN_CONCURRENCY = 20;
export const SUBMITTER_MAX_CONCURRENCY = UPSTREAM_RUN_CONCURRENCY / SUBMITTER_RUN_CONCURRENCY;
/** A batch holds no more messages than its submitter keeps in flight, so none waits for a free slot. */
export const SUBMITTER_BATCH_SIZE = SUBMITTER_RUN_CONCURRENCY;

export class SubmitQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // A message in the DLQ is a job the sweeper re-sends or rejects (core/queue-recovery.ts): kept 14 days
    // so an operator can still read what failed.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS: at least six times the function timeout, so a batch still running is never delivered twice.
      visibilityTimeout: Duration.seconds(SUBMITTER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: SUBMIT_MAX_RECEIVE_COUNT },
    });
  }
}
