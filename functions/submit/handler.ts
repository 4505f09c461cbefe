// Lambda for POST /jobs, POST /jobs/batch, POST /jobs/track, POST /jobs/{jobId}/cancel and POST /jobs/{jobId}/reconcile.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { jobEvents } from '../composition/event-parts.ts';
import { functionRuntime } from '../composition/function-runtime.ts';
import { queueParts } from '../composition/queue-parts.ts';
import { webhookSecret } from '../composition/secret-parts.ts';
import { dynamoJobs, s3Archive } from '../composition/storage-parts.ts';
import { upstream, urlFetcher } from '../composition/upstream-parts.ts';
import { cancelJob } from '../core/cancel.ts';
import { enqueueJob } from '../core/enqueue.ts';
import { enqueueBatch } from '../core/enqueue-batch.ts';
import { QueueUnavailableError, ValidationError } from '../core/errors.ts';
import { reconcileJob } from '../core/reconcile.ts';
import { publicJob } from '../core/results.ts';
import { submitJob } from '../core/submit.ts';
import { trackJob } from '../core/track.ts';
import { batchAnswer } from '../http/batch-answer.ts';
import { bodyBytes, header, jsonBody, pathParameter, principalOf, validate } from '../http/requests.ts';
import { json } from '../http/responses.ts';
import { dispatch } from '../http/router.ts';
import {
  idempotencyKeySchema,
  jobIdSchema,
  reconcileRequestSchema,
  submitRequestSchema,
  trackRequestSchema,
} from '../schemas/api.ts';
import { batchItemSchema, batchRequestSchema } from '../schemas/batch.ts';

const TRACK_MAX_BYTES = 64 * 1024;

/** Only what this function uses, each built on first use (docs/architecture.md "The deployed shape"). */
const getRuntime = functionRuntime('submit', {
  jobs: dynamoJobs,
  archive: s3Archive,
  upstream,
  events: jobEvents,
  webhookSecret,
  urlFetcher,
});

/** The queue adapters, or a clear 503 where the deployment has no submit queue. */
function queueOf(config: ReturnType<typeof getRuntime>['config']) {
  if (!config.SUBMIT_QUEUE_URL)
    throw new QueueUnavailableError('this deployment has no submit queue (SUBMIT_QUEUE_URL)');
  return queueParts(config);
}

function validationErrorOf(
  error: { issues: readonly { path: PropertyKey[]; message: string }[] },
  index: number,
) {
  const issues = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  return new ValidationError(`Invalid job ${index}`, { issues });
}

export const handler = (event: APIGatewayProxyEventV2, context?: Context) =>
  dispatch(
    event,
    {
      'POST /jobs': async (e, rt) => {
        const request = jsonBody(e, submitRequestSchema, rt.config.MAX_SUBMIT_BYTES);
        const rawKey = header(e, 'idempotency-key');
        const key =
          rawKey === undefined ? undefined : validate(idempotencyKeySchema, rawKey, 'Idempotency-Key header');
        if (request.queue && request.sync)
          throw new ValidationError('queue and sync exclude each other: a queued job is sent later');
        const { job, created } = request.queue
          ? await enqueueJob(rt, queueOf(rt.config), request, key, principalOf(e))
          : await submitJob(rt, request, key, principalOf(e));
        return json(
          job.state === 'ARCHIVED' ? 200 : 202,
          { job: publicJob(job) },
          {
            location: `/jobs/${job.jobId}`,
            ...(!created && { 'idempotent-replayed': 'true' }),
          },
        );
      },
      'POST /jobs/batch': async (e, rt) => {
        const { jobs } = jsonBody(e, batchRequestSchema, rt.config.MAX_SUBMIT_BYTES);
        const items = jobs.map((item, i) => {
          const parsed = batchItemSchema.safeParse(item);
          return parsed.success ? parsed.data : validationErrorOf(parsed.error, i);
        });
        const outcomes = await enqueueBatch(rt, queueOf(rt.config), items, principalOf(e));
        return batchAnswer(outcomes, rt.logger);
      },
      'POST /jobs/track': async (e, rt) => {
        const request = jsonBody(e, trackRequestSchema, TRACK_MAX_BYTES);
        const { job, created } = await trackJob(rt, request, principalOf(e));
        return json(created ? 201 : 200, { job: publicJob(job) }, { location: `/jobs/${job.jobId}` });
      },
      'POST /jobs/{jobId}/reconcile': async (e, rt) => {
        const jobId = pathParameter(e, 'jobId', jobIdSchema);
        const body = bodyBytes(e).length ? jsonBody(e, reconcileRequestSchema, TRACK_MAX_BYTES) : {};
        const { job, outcome } = await reconcileJob(rt, jobId, body.upstreamId, principalOf(e));
        return json(200, { job: publicJob(job), outcome });
      },
      'POST /jobs/{jobId}/cancel': async (e, rt) => {
        const job = await cancelJob(rt, pathParameter(e, 'jobId', jobIdSchema), principalOf(e));
        return json(200, { job: publicJob(job) });
      },
    },
    getRuntime,
    context,
  );
