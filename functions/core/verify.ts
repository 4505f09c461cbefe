// Background verification: one sweeper /status look confirms (or replaces) a result archived as a webhook delivered it.
import { isFinalUpstreamStatus } from '../schemas/upstream.ts';
import { announceLeftover } from './announce.ts';
import { audit } from './audit.ts';
import {
  errorSummary,
  publishQuietly,
  storeArtifacts,
  verificationLookAt,
  writeResultDocument,
} from './capture.ts';
import { ignoreConflict, UpstreamError, UpstreamNotFoundError, UpstreamRateLimitedError } from './errors.ts';
import type { Job } from './job.ts';
import { statusDigest, statusOnly } from './result-document.ts';
import { nextLookAt, retryLookAt } from './schedule.ts';
import { iso, type ServiceDeps } from './services.ts';
import type { SweepSummary } from './sweep.ts';

export type VerificationPolicy = 'strict' | 'background' | 'trust';

/**
 * The policy of an endpoint: `strict` wherever the deprecated STRICT_WEBHOOKS=true asks for it (it always
 * meant "confirm every body"), else the endpoint's own entry, else WEBHOOK_VERIFICATION, else `strict`.
 * Strict is the default because it costs the same one status call per webhook job as `background` and leaves
 * nothing for an auditor to doubt: no unconfirmed body is ever announced as a result.
 */
export function verificationPolicy(config: ServiceDeps['config'], endpoint: string): VerificationPolicy {
  if (config.STRICT_WEBHOOKS) return 'strict';
  return config.WEBHOOK_VERIFICATION_BY_ENDPOINT?.[endpoint] ?? config.WEBHOOK_VERIFICATION ?? 'strict';
}

/** A job the sweeper's verification dispatch takes: archived as delivered, its /status look still to come. */
export const awaitsVerification = (job: Job) => job.state === 'ARCHIVED' && job.verification === 'pending';

/** The sweep pass a look runs in: verification spends only what captures leave of its status budget. */
export interface VerifyPass {
  summary: SweepSummary;
  /** Endpoints that answered 429, paused for what they asked (core/sweep.ts): no looks at them meanwhile. */
  paused: { has(endpoint: string): boolean; add(endpoint: string, retryAfterMs: number): void };
}

const spentByPass = new WeakMap<SweepSummary, number>();

/** How long before the upstream forgets a result a verification stops yielding to captures. */
const deadlineMargin = (config: ServiceDeps['config']) =>
  Math.min(config.lookIntervalMs, config.RETENTION_MS / 4);

export type VerifyOutcome = 'confirmed' | 'mismatch' | 'unverifiable' | 'deferred' | 'announced';

/**
 * Looks once at /status for an as-delivered result and settles it: `confirmed` when the status is the same
 * (key order and whitespace aside), `mismatch` when it is not (the /status result becomes the archived one,
 * verified; the delivered document stays as evidence; metric + alarm), `unverifiable` when the upstream has
 * forgotten the job. Yields to captures: past VERIFY_PER_PASS looks in a pass it is pushed back, unless the
 * retention window is about to close on it.
 */
export async function verifyArchived(deps: ServiceDeps, job: Job, pass: VerifyPass): Promise<VerifyOutcome> {
  if (job.announcePending) {
    // Its writer died between the archive and the announcement: announce now, verify at the planned time.
    await announceLeftover(deps, job);
    const at = verificationLookAt(deps.config, deps.clock.now());
    await deps.jobs.scheduleVerification(job.jobId, at).catch(ignoreConflict);
    return 'announced';
  }
  const nowMs = deps.clock.now();
  const archivedMs = Date.parse(job.archivedAt ?? job.createdAt);
  const closing = nowMs >= archivedMs + deps.config.RETENTION_MS - deadlineMargin(deps.config);
  const spent = spentByPass.get(pass.summary) ?? 0;
  if (pass.paused.has(job.endpoint) || (spent >= deps.config.VERIFY_PER_PASS && !closing)) {
    await reschedule(deps, job, nowMs + Math.max(1000, Math.floor(deps.config.lookIntervalMs / 4)));
    return 'deferred';
  }
  spentByPass.set(pass.summary, spent + 1);
  pass.summary.polled++;
  deps.metrics.count('StatusPolls');
  let fetched: Awaited<ReturnType<ServiceDeps['upstream']['status']>>;
  try {
    fetched = await deps.upstream.status(job.endpoint, job.upstreamId ?? '');
  } catch (err) {
    if (err instanceof UpstreamNotFoundError) return settle(deps, job, 'unverifiable', {});
    if (err instanceof UpstreamRateLimitedError) {
      pass.summary.rateLimited++;
      deps.metrics.count('UpstreamRateLimited');
      pass.paused.add(job.endpoint, err.retryAfterMs);
      return 'deferred';
    }
    if (!(err instanceof UpstreamError)) throw err;
    pass.summary.errors++;
    deps.metrics.count('StatusPollErrors');
    await audit(deps, job.jobId, 'status.failed', 'sweeper', { code: err.code, verification: true });
    await reschedule(
      deps,
      job,
      retryLookAt(nowMs, deps.config, (job.looks ?? 0) + 1, deps.config.lookMarginMs),
    );
    return 'deferred';
  }
  const status = statusOnly(fetched.status);
  if (!isFinalUpstreamStatus(status.status)) {
    // The body said final, the upstream says not yet: the real result is still to come. Look again as for
    // any running job; the comparison (a mismatch, unless the body was only early) happens once it is final.
    await audit(deps, job.jobId, 'status.polled', 'sweeper', {
      upstreamStatus: status.status,
      verification: true,
    });
    await reschedule(deps, job, nextLookAt(nowMs, deps.config, job.jobId));
    return 'deferred';
  }
  if (sameStatus(job, status)) return settle(deps, job, 'confirmed', {});
  return replaceWithVerified(deps, job, { status: fetched.status, raw: fetched.raw });
}

function sameStatus(job: Job, status: Parameters<typeof statusDigest>[0]): boolean {
  const digest = statusDigest(status);
  return digest !== undefined && digest === job.deliveredDigest;
}

async function reschedule(deps: ServiceDeps, job: Job, at: number): Promise<void> {
  await deps.jobs.scheduleVerification(job.jobId, at).catch(ignoreConflict);
}

/** Records how the verification ended and takes the job out of the due index. */
async function settle(
  deps: ServiceDeps,
  job: Job,
  verification: 'confirmed' | 'unverifiable',
  detail: Record<string, unknown>,
): Promise<VerifyOutcome> {
  const settled = await deps.jobs
    .settleVerification(job.jobId, { verification, verifiedAt: iso(deps.clock.now()) })
    .catch(ignoreConflict);
  if (!settled) return 'deferred';
  deps.metrics.count(verification === 'confirmed' ? 'VerificationsConfirmed' : 'VerificationsUnverifiable');
  if (verification === 'unverifiable')
    deps.logger.error('as-delivered result could not be verified: upstream forgot the job', {
      jobId: job.jobId,
    });
  await audit(deps, job.jobId, `verification.${verification}`, 'sweeper', {
    provenance: settled.provenance ?? null,
    ...detail,
  });
  await publishQuietly(deps, 'Job Verified', settled);
  return verification;
}

/**
 * /status disagrees with the delivered body: archive the /status result (verified, at result.json), point the
 * job at it, keep the delivered document where it is as evidence, alarm.
 */
async function replaceWithVerified(
  deps: ServiceDeps,
  job: Job,
  obs: { status: Parameters<typeof statusOnly>[0]; raw: Uint8Array | readonly Uint8Array[] },
): Promise<VerifyOutcome> {
  const status = statusOnly(obs.status);
  const upstreamId = job.upstreamId ?? status.id;
  const artifacts = await storeArtifacts(deps, job, status.output, 'sweeper');
  const stored = await writeResultDocument(deps, job, upstreamId, obs, 'verified');
  const evidenceKey = job.resultKey ?? null;
  const replaced = await deps.jobs
    .settleVerification(job.jobId, {
      provenance: 'verified',
      verification: 'mismatch',
      verifiedAt: iso(deps.clock.now()),
      evidenceKey,
      resultKey: stored.key,
      resultBytes: stored.bytes,
      artifacts,
      upstreamStatus: status.status,
      delayTime: status.delayTime ?? null,
      executionTime: status.executionTime ?? null,
      reason: errorSummary(status.error) ?? null,
    })
    .catch(ignoreConflict);
  if (!replaced) return 'deferred';
  deps.metrics.count('VerificationMismatches');
  deps.logger.error(
    'webhook body differs from /status: archived the /status result, kept the body as evidence',
    {
      jobId: job.jobId,
      delivered: job.upstreamStatus,
      upstreamStatus: status.status,
    },
  );
  await audit(deps, job.jobId, 'verification.mismatch', 'sweeper', {
    deliveredStatus: job.upstreamStatus ?? null,
    upstreamStatus: status.status,
    evidenceKey,
    resultKey: stored.key,
  });
  await publishQuietly(deps, 'Job Verified', replaced);
  return 'mismatch';
}
