// The webhook service: authenticate the callback, treat its body as a hint, capture from what is true.
import { isFinalUpstreamStatus, type UpstreamStatus, upstreamStatusSchema } from '../schemas/upstream.ts';
import { audit } from './audit.ts';
import { type CaptureOutcome, captureResult, recordDuplicate } from './capture.ts';
import { ignoreConflict, JobNotFoundError, UpstreamError, WebhookAuthError } from './errors.ts';
import type { Job } from './job.ts';
import { isTerminal } from './job-state.ts';
import { iso, type ServiceDeps } from './services.ts';
import { verifyWebhookToken } from './webhook-token.ts';

export interface WebhookDelivery {
  jobId: string;
  token: string;
  body: Uint8Array;
}

export type WebhookOutcome = CaptureOutcome['kind'] | 'deferred';

/** Why a body could not be archived as it is, or undefined when it can. */
function unusableBecause(job: Job, hint: UpstreamStatus | undefined, strict: boolean): string | undefined {
  if (!hint) return 'empty or malformed body';
  if (!isFinalUpstreamStatus(hint.status)) return `status ${hint.status} is not final`;
  if (!job.upstreamId) return 'job has no upstream id yet';
  if (hint.id !== job.upstreamId) return 'body id does not match the job';
  if (strict) return 'strict mode confirms with /status';
  return undefined;
}

function parseHint(body: Uint8Array): UpstreamStatus | undefined {
  if (body.length === 0) return undefined;
  try {
    const parsed = upstreamStatusSchema.safeParse(JSON.parse(Buffer.from(body).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Handles `POST /webhooks/{jobId}/{token}`. The token is checked before anything is read; a final body
 * that matches the job is archived as is; any other body leads to a /status fetch (or, if that fails,
 * to an immediate sweeper look), never to a stored guess.
 */
export async function receiveWebhook(deps: ServiceDeps, delivery: WebhookDelivery): Promise<WebhookOutcome> {
  const secret = await deps.webhookSecret();
  if (!verifyWebhookToken(secret, delivery.jobId, delivery.token)) {
    deps.metrics.count('WebhooksRejected');
    throw new WebhookAuthError('token mismatch');
  }
  const job = await deps.jobs.get(delivery.jobId);
  if (!job) throw new JobNotFoundError(delivery.jobId);
  deps.metrics.count('WebhooksReceived');

  const hint = parseHint(delivery.body);
  await audit(deps, job.jobId, 'webhook.received', 'webhook', {
    bytes: delivery.body.length,
    upstreamStatus: hint?.status ?? null,
  });
  if (isTerminal(job.state)) {
    return (await recordDuplicate(deps, job, 'webhook', hint?.status)).kind;
  }

  const problem = unusableBecause(job, hint, deps.config.STRICT_WEBHOOKS);
  if (!problem && hint) return (await captureResult(deps, job, { status: hint, source: 'webhook' })).kind;

  deps.metrics.count('WebhooksUnusable');
  await audit(deps, job.jobId, 'webhook.unusable', 'webhook', { problem });
  // The token proves the callback is for this job, so a body id may stand in for a missing upstream id,
  // but only /status decides what gets archived.
  const upstreamId = job.upstreamId ?? hint?.id;
  if (upstreamId) {
    try {
      const fetched = await deps.upstream.status(job.endpoint, upstreamId);
      return (await captureResult(deps, job, { status: fetched.status, raw: fetched.raw, source: 'webhook' }))
        .kind;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      deps.logger.warn('status after webhook failed; the sweeper will look now', {
        jobId: job.jobId,
        code: err.code,
      });
    }
  }
  await deps.jobs
    .update(
      job.jobId,
      { dueAt: deps.clock.now(), lastSeenAt: iso(deps.clock.now()) },
      { states: ['SUBMITTING', 'PENDING'] },
    )
    .catch(ignoreConflict);
  return 'deferred';
}
