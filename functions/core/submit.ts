// The submit service: POST /jobs. Record, archive the input, then call the upstream with a per-job callback.
import { randomUUID } from 'node:crypto';
import { ulid } from 'ulid';
import type { SubmitRequest } from '../schemas/api.ts';
import { isFinalUpstreamStatus, type RunRequest } from '../schemas/upstream.ts';
import { markAnnounced } from './announce.ts';
import { inputKey } from './archive-keys.ts';
import { audit } from './audit.ts';
import { publishQuietly } from './capture.ts';
import { captureSettled } from './capture-wait.ts';
import { resolveEndpoint } from './endpoints.ts';
import { ConcurrentUpdateError, ignoreConflict, UpstreamError, UpstreamRateLimitedError } from './errors.ts';
import { claimRequestKey, scopedIdempotencyKey } from './idempotency.ts';
import type { Job } from './job.ts';
import { persistently } from './persist.ts';
import { firstLookAt, syncLookAt } from './schedule.ts';
import { iso, type ServiceDeps } from './services.ts';
import { signWebhookToken, webhookUrl } from './webhook-token.ts';

const RECORD_WAIT_ATTEMPTS = 10;
const RECORD_WAIT_STEP_MS = 100;
/**
 * A runsync result another capture holds is kept this long past the runsync wait, to be captured here if
 * that capture fails: inside the submit function's margin after the wait (lib/stack-config.ts).
 */
const SYNC_SETTLE_MS = 5000;

export interface SubmitResult {
  job: Job;
  /** False when an Idempotency-Key replay returned an existing job. */
  created: boolean;
}

/**
 * Submits a job. With an Idempotency-Key, a retried request returns the first job and never starts a second
 * upstream job. Certain upstream refusals (429, 4xx, unreachable) mark the job REJECTED and rethrow;
 * an ambiguous failure (timeout, 5xx) leaves it SUBMITTING with `submitAmbiguous` for the sweeper to settle.
 */
export async function submitJob(
  deps: ServiceDeps,
  request: SubmitRequest,
  idempotencyKey?: string,
  principal?: string,
): Promise<SubmitResult> {
  const endpoint = resolveEndpoint(deps.config, request.endpoint);
  const nowMs = deps.clock.now();
  const jobId = ulid(nowMs);

  const earlier = idempotencyKey
    ? await claimRequestKey(deps, { idempotencyKey, principal, request, endpoint }, jobId, nowMs)
    : undefined;
  if (earlier) {
    const existing = await awaitRecord(deps, earlier);
    if (existing) return { job: await sendIfUnsent(deps, existing, request), created: false };
    // The first request claimed the key and died before writing its record: take over its job id.
    return {
      job: await startJob(deps, earlier, endpoint, request, idempotencyKey, principal),
      created: false,
    };
  }
  return { job: await startJob(deps, jobId, endpoint, request, idempotencyKey, principal), created: true };
}

async function startJob(
  deps: ServiceDeps,
  jobId: string,
  endpoint: string,
  request: SubmitRequest,
  idempotencyKey: string | undefined,
  principal: string | undefined,
): Promise<Job> {
  const nowMs = deps.clock.now();
  const job: Job = {
    jobId,
    endpoint,
    state: 'SUBMITTING',
    origin: 'submitted',
    createdAt: iso(nowMs),
    ...(request.metadata && { metadata: request.metadata }),
    ...(request.policy && { policy: request.policy }),
    ...(request.sync && { sync: true }),
    ...(idempotencyKey && { idempotencyKey }),
    ...(principal && { submittedBy: principal }),
    // The sweeper settles SUBMITTING jobs a crash leaves behind.
    dueAt: nowMs + deps.config.SUBMIT_STALE_MS,
  };
  try {
    await deps.jobs.create(job);
  } catch (err) {
    // Two takeovers of one dead request: one record lands, and the run claim lets only one of them send it.
    if (!(err instanceof ConcurrentUpdateError)) throw err;
    const existing = await deps.jobs.get(jobId);
    return existing ? sendIfUnsent(deps, existing, request) : job;
  }
  await audit(deps, jobId, 'created', 'api', { endpoint, sync: Boolean(request.sync) }, principal);
  return sendJob(deps, job, request);
}

/**
 * A request that stopped between its record and /run (a crash, a store error after the SDK's retries) left a
 * job nobody would send: its client's retry sends it, instead of getting back a job that never runs.
 */
async function sendIfUnsent(deps: ServiceDeps, job: Job, request: SubmitRequest): Promise<Job> {
  if (job.state !== 'SUBMITTING' || job.runAttemptedAt) return job;
  return sendJob(deps, job, request, { resumed: true });
}

/**
 * The submitter's send of a claimed QUEUED job (core/submitter.ts): once per job whatever the redeliveries,
 * by the same run claim. A 429 is not recorded as a rejection: it is thrown for the submitter to re-queue.
 */
export async function sendQueued(
  deps: ServiceDeps,
  job: Job,
  request: SubmitRequest,
  start: Pick<SendHooks, 'beforeRun' | 'atRun'>,
): Promise<Job> {
  if (job.state !== 'SUBMITTING' || job.runAttemptedAt) return job;
  return sendJob(deps, job, request, { queued: true, ...start });
}

/**
 * The sweeper's send of a job its requests left recorded, its input archived, and unsent: the run claim given
 * back by a request that could not confirm it, while its client's retry had answered 202 with the job. Only
 * for a job with an Idempotency-Key (one request, sent once, whichever request or the sweeper sends it);
 * undefined when the input cannot be read back, for the sweeper to reject the job as never sent.
 */
export async function sendRecorded(deps: ServiceDeps, job: Job): Promise<Job | undefined> {
  if (job.state !== 'SUBMITTING' || job.runAttemptedAt || !job.inputKey || !job.idempotencyKey)
    return undefined;
  const input = await deps.archive.readJson(job.inputKey);
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  // By /run, not /runsync: the sweeper does not wait on a result; the sync job's looks take it (schedule.ts).
  const request: SubmitRequest = {
    endpoint: job.endpoint,
    input: input as Record<string, unknown>,
    ...(job.policy && { policy: job.policy }),
  };
  // The input is the archived one, read back: it is not written again.
  const archived = { key: job.inputKey, bytes: job.inputBytes ?? Buffer.byteLength(JSON.stringify(input)) };
  return sendJob(deps, job, request, { resumed: true, by: { source: 'sweeper' }, archived });
}

/**
 * The request that wrote the record may have stopped before its first audit line: every trail starts there.
 * Only the request that won the run claim looks, so retries racing a first request still in flight (which
 * writes its own line) add none.
 */
async function auditResumed(deps: ServiceDeps, job: Job, by: Sender): Promise<void> {
  const events = await deps.jobs.listEvents(job.jobId);
  if (events.some((e) => e.type === 'created')) return;
  const detail = { endpoint: job.endpoint, sync: Boolean(job.sync), resumed: true };
  await audit(deps, job.jobId, 'created', by.source, detail, by.actor);
}

/** Who sends a job, for its audit lines: the API for its caller, or the sweeper (whose lines name no actor). */
interface Sender {
  source: 'api' | 'sweeper';
  actor?: string | undefined;
}
const apiSender = (job: Job): Sender => ({ source: 'api', actor: job.submittedBy });

/** Tries at taking the run claim when one cannot be confirmed (a store fault): the first, then once more. */
const RUN_CLAIM_ATTEMPTS = 2;

/** Where a job's input is archived, and its size. */
interface ArchivedInput {
  key: string;
  bytes: number;
}

/** How a send goes: who sends, what is done already, and the submitter's waits for its start time. */
interface SendHooks {
  resumed?: boolean;
  queued?: boolean;
  /** Waited for before the run claim (the submitter's start time). */
  beforeRun?: () => Promise<void>;
  /** Right before /run, the run claim taken: a start time reached late is traded here (core/submitter.ts). */
  atRun?: () => Promise<void>;
  by?: Sender;
  archived?: ArchivedInput;
}

/**
 * Archives the input (unless it already is: `archived`), takes the run claim, then calls /run (or /runsync)
 * with the job's callback URL.
 */
async function sendJob(
  deps: ServiceDeps,
  created: Job,
  request: SubmitRequest,
  { resumed = false, queued = false, beforeRun, atRun, by = apiSender(created), archived }: SendHooks = {},
): Promise<Job> {
  const { jobId, endpoint } = created;
  const stored =
    archived ??
    (await deps.archive.putJson(
      inputKey(jobId, created.createdAt),
      Buffer.from(JSON.stringify(request.input)),
      {
        'job-id': jobId,
      },
    ));
  const secret = await deps.webhookSecret();
  const body: RunRequest = {
    input: request.input,
    webhook: webhookUrl(deps.config.PUBLIC_BASE_URL, jobId, signWebhookToken(secret, jobId)),
    ...(request.policy && { policy: request.policy }),
  };
  // The submitter's start time, waited for before the run claim: a submitter that stops while it waits leaves
  // the job unclaimed, so its message's redelivery (or queue recovery) sends it, instead of a claimed job that
  // looks like a /run whose answer was lost. Only the run claim then stands between the slot and /run.
  await beforeRun?.();
  let job: Job | undefined;
  // One token for every attempt: a claim that landed with its answer lost is still known as this request's.
  const runClaim = randomUUID();
  for (let attempt = 1; !job; attempt++) {
    try {
      // The run claim: of every request sending this job (the first and its client's retries), one calls /run.
      job = await deps.jobs.claimRun(jobId, {
        inputKey: stored.key,
        inputBytes: stored.bytes,
        runAttemptedAt: iso(deps.clock.now()),
        runClaim,
      });
    } catch (err) {
      // The write may have landed with only its answer lost (the SDK then retries it into its own condition):
      // the token says whether the claim is ours. Losing it unsent would leave a job nobody ever sends.
      const current = await persistently(() => deps.jobs.get(jobId)).catch(() => undefined);
      if (current?.runClaim === runClaim) {
        job = current;
        break;
      }
      // Another request's claim (it sends the job), or the job left SUBMITTING: nothing to send here.
      if (current && (err instanceof ConcurrentUpdateError || current.runAttemptedAt)) return current;
      // Unknown whether the claim landed: give it back, and take it again once. A concurrent retry that
      // found the claim answered its client with this job: if this request gives up, the sweeper sends it
      // (sendRecorded).
      if (!current) await releaseRunClaim(deps, jobId, runClaim);
      if (attempt >= RUN_CLAIM_ATTEMPTS) throw err;
    }
  }
  try {
    if (resumed) await auditResumed(deps, job, by);
  } catch (err) {
    await releaseRunClaim(deps, jobId, runClaim);
    throw err;
  }
  // Stamped now and written alongside /run, not before it: the run claim is then the only write between a
  // queued job's start time and its /run, and a slow audit write never delays (or stops) a claimed job's send.
  const archivedLine = audit(
    deps,
    jobId,
    'input.archived',
    by.source,
    { key: stored.key, bytes: stored.bytes },
    by.actor,
  );
  try {
    await atRun?.();
    if (request.sync) return await runSync(deps, job, body);
    const accepted = await deps.upstream.run(endpoint, body);
    return await markSubmitted(deps, job, accepted.id, accepted.status, by);
  } catch (err) {
    // The client learns which job to retry, reconcile or look up.
    const backPressure = queued && err instanceof UpstreamRateLimitedError;
    if (err instanceof UpstreamError && !backPressure)
      await recordSubmitFailure(deps, job, err.withDetail('jobId', job.jobId), by);
    throw err;
  } finally {
    await archivedLine;
  }
}

/**
 * Gives back a run claim this request took (or may have) and will not follow with /run, so its client's
 * retry sends the job. A condition failure means the claim was never ours: nothing to give back. If the
 * store stays down, the sweeper settles the job as an ambiguous submit, as before.
 */
async function releaseRunClaim(deps: ServiceDeps, jobId: string, runClaim: string): Promise<void> {
  await persistently(() => deps.jobs.releaseRunClaim(jobId, runClaim)).catch((err) => {
    if (err instanceof ConcurrentUpdateError) return;
    deps.logger.error('run claim left taken though the job was not sent', { jobId, error: String(err) });
  });
}

/** The first request with a key writes its record right after claiming it; give it a moment to land. */
async function awaitRecord(deps: ServiceDeps, jobId: string): Promise<Job | undefined> {
  for (let attempt = 0; attempt < RECORD_WAIT_ATTEMPTS; attempt++) {
    const job = await deps.jobs.get(jobId);
    if (job) return job;
    await new Promise((resolve) => setTimeout(resolve, RECORD_WAIT_STEP_MS));
  }
  return undefined;
}

async function runSync(deps: ServiceDeps, job: Job, body: RunRequest): Promise<Job> {
  const askedAt = deps.clock.now();
  const fetched = await deps.upstream.runSync(job.endpoint, body, { waitMs: deps.config.RUNSYNC_WAIT_MS });
  const pending = await markSubmitted(deps, job, fetched.status.id, fetched.status.status);
  if (!isFinalUpstreamStatus(fetched.status.status)) return pending;
  // runsync results live upstream for only 60 s: capture now, not on the next sweep.
  const observation = { status: fetched.status, raw: fetched.raw, source: 'runsync' as const };
  // If the job's webhook arrived before this answer, its capture may still fail or die: this result in hand
  // is kept until the job is settled, within the request's time.
  const until = askedAt + deps.config.RUNSYNC_WAIT_MS + SYNC_SETTLE_MS;
  return captureSettled(deps, pending, observation, until);
}

async function markSubmitted(
  deps: ServiceDeps,
  job: Job,
  upstreamId: string,
  upstreamStatus: string,
  by: Sender = apiSender(job),
): Promise<Job> {
  const nowMs = deps.clock.now();
  const fields = { upstreamId, upstreamStatus, submittedAt: iso(nowMs) };
  // A runsync job that outlived the wait is kept upstream for only 60 s after it ends: looked at on every
  // sweep pass from now on, ahead of any backlog (schedule.ts).
  // Any other job cannot have finished before its run claim, the first look that found it unfinished.
  const dueAt = job.sync
    ? syncLookAt(nowMs)
    : firstLookAt(job.runAttemptedAt ? Date.parse(job.runAttemptedAt) : nowMs, deps.config);
  try {
    // The upstream id exists only in this answer now: a store hiccup must not cost it (see persist.ts).
    await persistently(() => deps.jobs.linkUpstream(job.endpoint, upstreamId, job.jobId));
    deps.metrics.count('JobsSubmitted', 1, { endpoint: job.endpoint });
    const updated = await persistently(() => deps.jobs.markSubmitted(job.jobId, fields, dueAt));
    await audit(deps, job.jobId, 'submitted', by.source, { upstreamId, upstreamStatus }, by.actor);
    return updated;
  } catch (err) {
    if (!(err instanceof ConcurrentUpdateError)) {
      // Only the webhook (or an operator's reconcile with this id) can still tie the upstream job to ours.
      deps.metrics.count('AmbiguousSubmits', 1, { endpoint: job.endpoint });
      deps.logger.error('upstream accepted the job but recording its id failed', {
        jobId: job.jobId,
        endpoint: job.endpoint,
        upstreamId,
        error: String(err),
      });
      throw err;
    }
    // A webhook beat us to it (the job finished before /run's answer was recorded): keep what it wrote.
    const detail = { upstreamId, upstreamStatus, raced: true };
    await audit(deps, job.jobId, 'submitted', by.source, detail, by.actor);
    return (await deps.jobs.get(job.jobId)) ?? job;
  }
}

async function recordSubmitFailure(
  deps: ServiceDeps,
  job: Job,
  err: UpstreamError,
  by: Sender,
): Promise<void> {
  if (!err.certainlyNotAccepted) {
    deps.metrics.count('AmbiguousSubmits', 1, { endpoint: job.endpoint });
    deps.logger.warn('ambiguous submit', { jobId: job.jobId, endpoint: job.endpoint, code: err.code });
    await persistently(() => deps.jobs.markSubmitAmbiguous(job.jobId)).catch(ignoreConflict);
    const detail = { code: err.code, message: err.message };
    await audit(deps, job.jobId, 'submit.ambiguous', by.source, detail, by.actor);
    return;
  }
  // Recorded persistently: a refusal that fails to be written leaves a job nobody sends, waiting a whole job
  // life for a webhook that cannot come, while its client's retries get it back.
  const reason = `${err.code}: ${err.message}`;
  // Pending its announcement until markAnnounced (announce.ts).
  const rejected = await persistently(() => deps.jobs.reject(job.jobId, reason, deps.clock.now())).catch(
    ignoreConflict,
  );
  // The upstream certainly has no job: free the key so the client's retry can really try again.
  const { idempotencyKey } = job;
  if (idempotencyKey) {
    const key = scopedIdempotencyKey(idempotencyKey, job.submittedBy);
    await persistently(() => deps.jobs.releaseIdempotencyKey(key, job.jobId));
  }
  deps.metrics.count('JobsRejected', 1, { endpoint: job.endpoint });
  const detail = { code: err.code, message: err.message };
  await audit(deps, job.jobId, 'submit.rejected', by.source, detail, by.actor);
  if (!rejected) return;
  await publishQuietly(deps, 'Job Rejected', rejected);
  await markAnnounced(deps, rejected);
}
