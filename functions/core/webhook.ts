// The webhook service: authenticate the callback, treat its body as a hint, capture from what is true.

import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { isFinalUpstreamStatus, type UpstreamStatus, upstreamStatusSchema } from '../schemas/upstream.ts';
import { audit, auditEvent } from './audit.ts';
import { type CaptureOutcome, captureResult, recordDuplicate } from './capture.ts';
import {
  ConcurrentUpdateError,
  ignoreConflict,
  UpstreamError,
  ValidationError,
  WebhookAuthError,
} from './errors.ts';
import type { Job } from './job.ts';
import { isTerminal, takesLateResult } from './job-state.ts';
import { persistently } from './persist.ts';
import { statusOnly } from './result-document.ts';
import { iso, type ServiceDeps } from './services.ts';
import { verificationPolicy } from './verify.ts';
import { DEFAULT_JOB_LIFE_MS, tokenExpiresAt, verifyWebhookToken } from './webhook-token.ts';

export interface WebhookDelivery {
  jobId: string;
  token: string;
  body: Uint8Array;
  /** The request's Content-Type header, if any: a body must be JSON. */
  contentType?: string;
}

export type WebhookOutcome = CaptureOutcome['kind'] | 'deferred';

/** Why a body could not be archived as it is, or undefined when it can. */
function unusableBecause(job: Job, hint: UpstreamStatus | undefined, config: Config): string | undefined {
  if (!hint) return 'empty or malformed body';
  if (!isFinalUpstreamStatus(hint.status)) return `status ${hint.status} is not final`;
  if (!job.upstreamId) return 'job has no upstream id yet';
  if (hint.id !== job.upstreamId) return 'body id does not match the job';
  if (verificationPolicy(config, job.endpoint) === 'strict') return 'the strict policy confirms with /status';
  // Capture follows URLs in outputs when this is on: only a status from /status may name them, never an
  // unsigned body, or holding one job's callback URL would be enough to make the archiver fetch anything.
  if (config.ARTIFACTS_FETCH_URLS) return 'URL fetching confirms with /status';
  return undefined;
}

/** Whether any endpoint may have a body archived as delivered (else no webhook takes a lease with its read). */
function bodyMayBeArchived(config: Config): boolean {
  if (config.STRICT_WEBHOOKS || config.ARTIFACTS_FETCH_URLS) return false;
  const policies = [
    config.WEBHOOK_VERIFICATION ?? 'strict',
    ...Object.values(config.WEBHOOK_VERIFICATION_BY_ENDPOINT ?? {}),
  ];
  return policies.some((policy) => policy !== 'strict');
}

interface Hint {
  status: UpstreamStatus;
  /** The status object as the upstream wrote it (its key order), without the fields a webhook adds. */
  raw: Uint8Array;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, or a 4xx before anything is stored: a non-empty body must say it is JSON (415) and be
 * valid UTF-8 (400), because a body decoded with replacement characters is no longer what was sent. An
 * empty body is no body (the upstream has sent those for hours): it leads to a /status fetch as always.
 */
function bodyText(delivery: WebhookDelivery): string {
  if (delivery.body.length === 0) return '';
  if (!delivery.contentType || !JSON_TYPE.test(delivery.contentType))
    throw new ValidationError(
      'Webhook body must be JSON (Content-Type: application/json)',
      undefined,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  try {
    return utf8.decode(delivery.body);
  } catch {
    throw new ValidationError('Webhook body is not valid UTF-8', undefined, 'INVALID_ENCODING');
  }
}

function parseHint(text: string): Hint | undefined {
  if (text.length === 0) return undefined;
  try {
    const json: unknown = JSON.parse(text);
    const parsed = upstreamStatusSchema.safeParse(json);
    if (!parsed.success) return undefined;
    // The schema reorders keys; result.json keeps the upstream's own order, like a /status capture does.
    // JSON.stringify recurses: a body nested thousands deep throws RangeError here and is unusable.
    const raw = Buffer.from(JSON.stringify(statusOnly(json as UpstreamStatus)));
    return { status: statusOnly(parsed.data), raw };
  } catch {
    return undefined;
  }
}

/**
 * The body's id, for a job whose /run answer has not been recorded, unless that upstream job already
 * belongs to another archiver job: /status proves an id exists, not whose it is, and a leaked callback URL
 * must not let its holder archive another job's result under this one.
 */
async function unclaimedBodyId(
  deps: ServiceDeps,
  job: Job,
  hint: UpstreamStatus | undefined,
): Promise<string | undefined> {
  if (!hint) return undefined;
  const holder = await deps.jobs.findByUpstream(job.endpoint, hint.id);
  return holder === undefined || holder === job.jobId ? hint.id : undefined;
}

/**
 * Ties a SUBMITTING job to the upstream id its webhook named, due now: as a reconcile would, but the id is
 * only looked at, never trusted. False when the id cannot be kept (another job holds it, or the job moved on).
 */
async function keepBodyId(deps: ServiceDeps, job: Job, upstreamId: string): Promise<boolean> {
  if (job.state !== 'SUBMITTING') return false;
  try {
    const holder = await persistently(() => deps.jobs.linkUpstream(job.endpoint, upstreamId, job.jobId));
    if (holder !== job.jobId) return false;
    const nowMs = deps.clock.now();
    await persistently(() =>
      deps.jobs.markSubmitted(job.jobId, { upstreamId, submittedAt: iso(nowMs) }, nowMs),
    );
    await audit(deps, job.jobId, 'submitted', 'webhook', { upstreamId, fromWebhookBody: true });
    return true;
  } catch (err) {
    if (err instanceof ConcurrentUpdateError) return false;
    throw err;
  }
}

/**
 * Handles `POST /webhooks/{jobId}/{token}`. The token is checked before anything is read; a final body
 * that matches the job is archived as is; any other body leads to a /status fetch (or, if that fails,
 * to an immediate sweeper look), never to a stored guess.
 */
export async function receiveWebhook(deps: ServiceDeps, delivery: WebhookDelivery): Promise<WebhookOutcome> {
  const refuse = (reason: string) => {
    deps.metrics.count('WebhooksRejected');
    // One answer for every refusal (http/responses.ts); the reason is for the logs only.
    return new WebhookAuthError(reason);
  };
  const secrets = await deps.webhookSecret();
  if (!verifyWebhookToken(secrets, delivery.jobId, delivery.token)) throw refuse('token mismatch');
  const nowMs = deps.clock.now();
  // The ULID's time is signed with it: no job can use its token past the longest job life, read nothing.
  if (nowMs > tokenExpiresAt(delivery.jobId, deps.config.RETENTION_MS)) throw refuse('token expired');
  const text = bodyText(delivery);
  const parsed = parseHint(text);
  const hint = parsed?.status;
  // A final body that may be archived as it is: the capture lease is taken as the read of the job, one
  // request instead of two. The lease is the short one (the job's kind is not known yet), still longer than
  // a capture from a body in hand takes; it is given back at once if the body is not archived after all.
  const speculate =
    hint !== undefined && isFinalUpstreamStatus(hint.status) && bodyMayBeArchived(deps.config);
  const owner = randomUUID();
  const read = speculate
    ? await deps.jobs.claimCapture(delivery.jobId, owner, nowMs, deps.config.SYNC_CAPTURE_LEASE_MS)
    : undefined;
  const job = read ? read.job : await deps.jobs.get(delivery.jobId);
  let held = read?.claimed ? owner : undefined;
  const giveBack = async () => {
    if (!job || !held) return;
    held = undefined;
    await persistently(() => deps.jobs.releaseLease(job.jobId, owner)).catch(() => undefined);
  };
  if (!job) throw refuse('no such job');
  const life = job.policy?.ttl ?? DEFAULT_JOB_LIFE_MS;
  if (nowMs > tokenExpiresAt(job.jobId, deps.config.RETENTION_MS, life)) {
    await giveBack();
    throw refuse('token expired');
  }
  deps.metrics.count('WebhooksReceived');

  const received = { bytes: delivery.body.length, upstreamStatus: hint?.status ?? null };
  // An expired job still takes a final body its policy archives as delivered; one that needs /status does
  // not (the upstream forgot it: that /status is a 404), and stays as it is, its webhook a duplicate.
  const settled = isTerminal(job.state) && !takesLateResult(job.state);
  const problem = settled ? 'settled' : unusableBecause(job, hint, deps.config);
  const observation = parsed && {
    status: parsed.status,
    raw: parsed.raw,
    source: 'webhook' as const,
    provenance: 'as-delivered' as const,
    verifyLater: verificationPolicy(deps.config, job.endpoint) === 'background',
  };
  if (!problem && observation && held) {
    // Its received line is written with the archive's, in one request (capture.ts).
    const line = auditEvent(deps, job.jobId, 'webhook.received', 'webhook', received);
    return (await captureResult(deps, job, observation, { held: { owner, job }, received: line })).kind;
  }
  await giveBack();
  await audit(deps, job.jobId, 'webhook.received', 'webhook', received);
  if (isTerminal(job.state) && (settled || problem)) {
    return (await recordDuplicate(deps, job, 'webhook', hint?.status)).kind;
  }
  if (!problem && observation) {
    return (await captureResult(deps, job, observation)).kind;
  }

  deps.metrics.count('WebhooksUnusable');
  await audit(deps, job.jobId, 'webhook.unusable', 'webhook', { problem });
  // The token proves the callback is for this job, so a body id may stand in for a missing upstream id,
  // but only /status decides what gets archived.
  const upstreamId = job.upstreamId ?? (await unclaimedBodyId(deps, job, hint));
  if (upstreamId) {
    try {
      const askedAt = deps.clock.now();
      const fetched = await deps.upstream.status(job.endpoint, upstreamId);
      const observation = { status: fetched.status, raw: fetched.raw, source: 'webhook' as const, askedAt };
      return (await captureResult(deps, job, observation)).kind;
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      deps.logger.warn('status after webhook failed; the sweeper will look now', {
        jobId: job.jobId,
        code: err.code,
      });
      // A job whose /run answer was lost knows its upstream id only from this body: kept, so the sweeper's
      // look (which archives only what /status says) can find the job before the upstream forgets it.
      if (!job.upstreamId && (await keepBodyId(deps, job, upstreamId))) return 'deferred';
    }
  }
  await deps.jobs
    .reschedule(job.jobId, { dueAt: deps.clock.now(), lastSeenAt: iso(deps.clock.now()) })
    .catch(ignoreConflict);
  return 'deferred';
}
