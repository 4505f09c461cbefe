// The capture service: the only path by which a job becomes ARCHIVED (webhook, sweeper, runsync, track, cancel).
import { randomUUID } from 'node:crypto';
import { isFinalUpstreamStatus, UNSTORABLE, type UpstreamStatus } from '../schemas/upstream.ts';
import { markAnnounced } from './announce.ts';
import { artifactKey } from './archive-keys.ts';
import { findImageArtifacts } from './artifacts.ts';
import { audit, auditEvent, auditTogether } from './audit.ts';
import { ConcurrentUpdateError, JobNotFoundError } from './errors.ts';
import type { ArtifactRef, CaptureSource, Job, Provenance } from './job.ts';
import { isTerminal, takesLateResult } from './job-state.ts';
import { wholeStatus } from './lean-output.ts';
import { PERSIST_DELAYS_MS, persistently } from './persist.ts';
import { redactText } from './redaction.ts';
import { resultDocumentChunks, resultKeyFor, statusDigest, statusOnly } from './result-document.ts';
import { nextLookAt } from './schedule.ts';
import { iso, type ServiceDeps } from './services.ts';
import { LEASE_MS } from './transitions.ts';

/** What was seen upstream: a status object, and its exact bytes when known. */
export interface Observation {
  status: UpstreamStatus;
  /** The bytes `status` was read from (a /status answer, or a webhook body without its delivery fields). */
  raw?: Uint8Array | readonly Uint8Array[];
  source: CaptureSource;
  /**
   * `as-delivered` when `status` is a webhook body; everything else (sweeper, runsync, track, cancel,
   * reconcile, a webhook's /status fetch) reads the upstream API, so the default is `verified`.
   */
  provenance?: Provenance;
  /** An as-delivered result to be confirmed by one later /status look (the `background` policy). */
  verifyLater?: boolean;
  /**
   * Epoch ms when the /status request behind `status` was sent. A status not final proves the job unfinished
   * then, and the next look is scheduled from it (core/schedule.ts).
   */
  askedAt?: number;
}

export type CaptureOutcome =
  | { kind: 'archived'; job: Job }
  | { kind: 'duplicate'; job: Job }
  | { kind: 'in-progress'; job: Job }
  | { kind: 'rescheduled'; job: Job };

const REASON_MAX = 1000;
const SYNC_LOOK_INTERVAL_MS = 20_000;

type CaptureDeps = Pick<
  ServiceDeps,
  'config' | 'jobs' | 'archive' | 'events' | 'metrics' | 'logger' | 'clock' | 'urlFetcher'
>;

/**
 * Records an upstream status for a job. A final status is archived exactly once: the result and artifacts
 * are written under a capture lease, then one conditional write moves the job to ARCHIVED. Anything else
 * reschedules the sweeper's next look. Duplicates and late arrivals become audit events, never rewrites.
 */
export async function captureResult(
  deps: CaptureDeps,
  jobOrId: Job | string,
  obs: Observation,
  options: CaptureOptions = {},
): Promise<CaptureOutcome> {
  const { held, received } = options;
  const job = held?.job ?? (typeof jobOrId === 'string' ? await load(deps, jobOrId) : jobOrId);
  const final = isFinalUpstreamStatus(obs.status.status);
  if (settledFor(job, final)) return duplicate(deps, job, obs);
  if (!final) return recordProgress(deps, job, obs);

  // The audit line of what led here, when its writer left it to this capture: written with the archive's
  // own line on success, on its own (as always) otherwise.
  const auditReceived = async () => {
    if (received)
      await audit(deps, job.jobId, received.event.type, received.event.source, received.event.detail);
  };
  const owner = held?.owner ?? randomUUID();
  let claimed = held?.job;
  const leaseMs = job.sync ? deps.config.SYNC_CAPTURE_LEASE_MS : LEASE_MS;
  for (let attempt = 0; !claimed; attempt++) {
    const claim = await deps.jobs.claimCapture(job.jobId, owner, deps.clock.now(), leaseMs);
    if (claim.claimed) {
      claimed = claim.job;
      break;
    }
    const current = claim.job ?? (await load(deps, job.jobId));
    // Expired a moment ago and still being announced (its writer clears the lease when done, in moments),
    // or announced since the claim was refused: try again, unless another capture holds it.
    const delay = PERSIST_DELAYS_MS[attempt];
    const late = takesLateResult(current.state) && !heldByLateCapture(current, deps.clock.now());
    if (late && delay !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      continue;
    }
    await auditReceived();
    return lostClaim(deps, current, obs);
  }

  let archived: Job;
  try {
    archived = await archiveUnderLease(deps, claimed, owner, obs);
  } catch (err) {
    await auditReceived();
    if (err instanceof ConcurrentUpdateError)
      return lostClaim(deps, (err.current as Job | undefined) ?? (await load(deps, job.jobId)), obs);
    // Free the lease at once so the next webhook or sweep can retry without waiting for it to run out; the
    // store error that failed the capture may well fail this too, so it is retried (persist.ts).
    await persistently(() => deps.jobs.releaseLease(job.jobId, owner)).catch(() => undefined);
    throw err;
  }
  const status = archivedStatus(archived);
  const artifacts = archived.artifacts ?? [];
  const stored = { bytes: archived.resultBytes ?? 0 };

  const archivedEvent = auditEvent(deps, archived.jobId, 'archived', obs.source, {
    ...(takesLateResult(claimed.state) && { afterExpiry: true }),
    upstreamStatus: status.status,
    resultBytes: stored.bytes,
    artifacts: artifacts.length,
    provenance: archived.provenance ?? 'verified',
    // Numbers the record could not take (schemas/upstream.ts): result.json holds them as the upstream sent them.
    ...(obs.status[UNSTORABLE] && { unstorable: obs.status[UNSTORABLE] }),
  });
  // The capture's audit lines in one request, beside the job event; both before the job is marked
  // announced, so a crash before that leaves it to the sweeper, which writes whatever line is missing.
  await Promise.all([
    auditTogether(deps, received ? [received, archivedEvent] : [archivedEvent]),
    publishQuietly(deps, 'Job Archived', archived),
  ]);
  const byEndpoint = { endpoint: archived.endpoint };
  deps.metrics.count('JobsArchived', 1, byEndpoint);
  deps.metrics.gauge(
    'ArchivedBytes',
    stored.bytes + artifacts.reduce((n, a) => n + a.bytes, 0),
    'Bytes',
    byEndpoint,
  );
  deps.logger.info('job archived', {
    jobId: archived.jobId,
    endpoint: archived.endpoint,
    source: obs.source,
    upstreamStatus: status.status,
    provenance: archived.provenance,
    ...(takesLateResult(claimed.state) && { afterExpiry: true }),
  });
  // Announced, and awaiting its /status look if it is to be verified: the job then stays in the due index,
  // due at the look; `verifyDueAt` plans it. If this write fails the sweeper announces it again.
  const verifyAt =
    archived.verification === 'pending' ? verificationLookAt(deps.config, deps.clock.now()) : undefined;
  return { kind: 'archived', job: await markAnnounced(deps, archived, verifyAt) };
}

export interface CaptureOptions {
  /** A capture lease the caller already holds, taken as its read of the job (webhook.ts). */
  held?: { owner: string; job: Job };
  /** The caller's own audit line, left to the capture to write in one request with the archive's. */
  received?: ReturnType<typeof auditEvent>;
}

/** When background verification looks at a job archived now: inside the retention window, after the rush. */
export const verificationLookAt = (config: CaptureDeps['config'], nowMs: number) =>
  nowMs + Math.min(config.VERIFY_AFTER_MS ?? config.lookIntervalMs, config.RETENTION_MS / 2);

/** Writes artifacts and result.json, then the one conditional move to ARCHIVED (fails if the lease was lost). */
async function archiveUnderLease(
  deps: CaptureDeps,
  claimed: Job,
  owner: string,
  obs: Observation,
): Promise<Job> {
  const upstreamId = claimed.upstreamId ?? obs.status.id;
  const provenance = obs.provenance ?? 'verified';
  const verifyLater = provenance === 'as-delivered' && obs.verifyLater === true;
  const status = statusOnly(obs.status);
  const artifacts = await storeArtifacts(deps, claimed, status.output, obs.source);
  const stored = await writeResultDocument(deps, claimed, upstreamId, obs, provenance);

  const nowMs = deps.clock.now();
  const now = iso(nowMs);
  return deps.jobs.archive(
    claimed.jobId,
    owner,
    {
      upstreamId,
      upstreamStatus: status.status,
      submittedAt: claimed.submittedAt ?? now,
      lastSeenAt: now,
      finishedAt: now,
      archivedAt: now,
      captureSource: obs.source,
      provenance,
      verification: verifyLater ? 'pending' : null,
      deliveredDigest: (verifyLater && statusDigest(status)) || null,
      verifyDueAt: null,
      verifiedAt: null,
      evidenceKey: null,
      resultKey: stored.key,
      resultBytes: stored.bytes,
      artifacts,
      delayTime: status.delayTime ?? null,
      executionTime: status.executionTime ?? null,
      reason: errorSummary(status.error) ?? null,
    },
    nowMs,
  );
}

/** result.json under the key of its provenance (result-document.ts): the raw bytes when known, untouched. */
export function writeResultDocument(
  deps: Pick<CaptureDeps, 'archive'>,
  job: Job,
  upstreamId: string,
  obs: Pick<Observation, 'status' | 'raw'>,
  provenance: Provenance,
) {
  const status = statusOnly(obs.status);
  // A lean status (lean-output.ts) is read whole only when it has to be rewritten without delivery fields.
  const statusJson =
    obs.raw && status === obs.status
      ? obs.raw
      : Buffer.from(JSON.stringify(statusOnly(wholeStatus(obs.status))));
  return deps.archive.putJson(
    resultKeyFor(job, provenance),
    resultDocumentChunks(job, upstreamId, statusJson, provenance),
    { 'job-id': job.jobId, 'upstream-status': status.status, provenance },
  );
}

const archivedStatus = (job: Job) => ({ status: job.upstreamStatus ?? 'UNKNOWN' });

async function load(deps: CaptureDeps, jobId: string): Promise<Job> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw new JobNotFoundError(jobId);
  return job;
}

async function recordProgress(deps: CaptureDeps, job: Job, obs: Observation): Promise<CaptureOutcome> {
  const nowMs = deps.clock.now();
  try {
    const updated = await deps.jobs.recordStatus(
      job.jobId,
      {
        upstreamId: job.upstreamId ?? obs.status.id,
        upstreamStatus: obs.status.status,
        submittedAt: job.submittedAt ?? iso(nowMs),
        lastSeenAt: iso(nowMs),
      },
      // Unknown ask time: the answer may be as old as one request's timeout.
      nextLookAt(
        obs.askedAt ?? nowMs - deps.config.UPSTREAM_TIMEOUT_MS,
        {
          firstLookMs: deps.config.firstLookMs,
          // runsync results are kept upstream for 60 s only: look well inside that.
          lookIntervalMs: job.sync
            ? Math.min(deps.config.lookIntervalMs, SYNC_LOOK_INTERVAL_MS)
            : deps.config.lookIntervalMs,
        },
        job.jobId,
      ),
    );
    await audit(deps, job.jobId, 'status.polled', obs.source, { upstreamStatus: obs.status.status });
    return { kind: 'rescheduled', job: updated };
  } catch (err) {
    if (!(err instanceof ConcurrentUpdateError)) throw err;
    const current = await load(deps, job.jobId);
    if (isTerminal(current.state)) return duplicate(deps, current, obs);
    throw err;
  }
}

/** Settled for this status: terminal, unless it is a final result the job still takes (job-state.ts). */
const settledFor = (job: Job, final: boolean) =>
  isTerminal(job.state) && !(final && takesLateResult(job.state));

/** A job that takes a late result, under a live capture lease (an announcer's claim comes with `announcePending`). */
export const heldByLateCapture = (job: Job, nowMs: number) =>
  takesLateResult(job.state) &&
  job.leaseOwner !== undefined &&
  !job.announcePending &&
  (job.leaseUntil ?? 0) >= nowMs;

const duplicate = (deps: CaptureDeps, job: Job, obs: Observation) =>
  recordDuplicate(deps, job, obs.source, obs.status.status);

/** A status for a job already settled: kept as an audit fact and a metric, nothing rewritten. */
export async function recordDuplicate(
  deps: Pick<ServiceDeps, 'jobs' | 'metrics' | 'logger' | 'clock'>,
  job: Job,
  source: CaptureSource,
  upstreamStatus: string | undefined,
): Promise<CaptureOutcome> {
  deps.metrics.count('DuplicateCaptures', 1, { endpoint: job.endpoint });
  await audit(deps, job.jobId, source === 'webhook' ? 'webhook.duplicate' : 'capture.duplicate', source, {
    upstreamStatus: upstreamStatus ?? null,
    state: job.state,
  });
  return { kind: 'duplicate', job };
}

/** The claim failed: the record as it found it says whether a capture settled the job or holds it. */
async function lostClaim(deps: CaptureDeps, current: Job, obs: Observation): Promise<CaptureOutcome> {
  if (isTerminal(current.state) && !heldByLateCapture(current, deps.clock.now()))
    return duplicate(deps, current, obs);
  // Another capture holds a live lease: it will archive; this one is a duplicate in flight.
  deps.metrics.count('DuplicateCaptures', 1, { endpoint: current.endpoint });
  await audit(deps, current.jobId, 'capture.concurrent', obs.source, { upstreamStatus: obs.status.status });
  return { kind: 'in-progress', job: current };
}

export async function storeArtifacts(
  deps: CaptureDeps,
  job: Job,
  output: unknown,
  source: CaptureSource,
): Promise<ArtifactRef[]> {
  if (output === undefined) return [];
  const embedded = deps.config.ARTIFACTS_DECODE_BASE64 ? findImageArtifacts(output) : [];
  const refs: ArtifactRef[] = [];
  for (const [n, found] of embedded.entries()) {
    if (found.bytes > deps.config.ARTIFACT_MAX_BYTES) {
      deps.logger.warn('artifact over size limit, kept only inside result.json', {
        jobId: job.jobId,
        path: found.path,
      });
      continue;
    }
    const key = artifactKey(job.jobId, job.createdAt, n, found.name, found.ext);
    const stored = await deps.archive.putBinary(key, found.data, found.contentType);
    refs.push({ key, contentType: found.contentType, bytes: stored.bytes, from: found.path });
  }
  return [...refs, ...(await storeUrlArtifacts(deps, job, output, source, embedded.length))];
}

const MAX_URL_ARTIFACTS = 16;
const MAX_URL_LENGTH = 4096;
const URL_FETCH_CONCURRENCY = 4;
const MAX_OUTPUT_DEPTH = 32;

/** `http(s)` URL strings of an output (`[{image: "https://..."}]`), with their JSON paths; bounded. */
function findArtifactUrls(output: unknown): Array<{ path: string; url: string }> {
  const found: Array<{ path: string; url: string }> = [];
  const visit = (value: unknown, path: string, depth: number): void => {
    if (found.length >= MAX_URL_ARTIFACTS || depth > MAX_OUTPUT_DEPTH) return;
    if (typeof value === 'string') {
      if (value.length <= MAX_URL_LENGTH && /^https?:\/\/\S+$/i.test(value)) found.push({ path, url: value });
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) {
        if (found.length >= MAX_URL_ARTIFACTS) break;
        visit(item, `${path}[${i}]`, depth + 1);
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`, depth + 1);
    }
  };
  visit(output, 'output', 0);
  return found;
}

/**
 * Fetches the output's image URLs through the SSRF-guarded fetcher and stores them after the embedded ones
 * (numbered from `firstN`). A refused or failed URL becomes an audit event, never a failed capture: the URL
 * itself stays in result.json.
 *
 * Only statuses that came from the upstream API reach this point with URL fetching on: webhook.ts confirms
 * every webhook body with /status when ARTIFACTS_FETCH_URLS is set, because a body is unsigned and would
 * otherwise let whoever holds a job's callback URL make this service fetch any URL.
 */
async function storeUrlArtifacts(
  deps: CaptureDeps,
  job: Job,
  output: unknown,
  source: CaptureSource,
  firstN: number,
): Promise<ArtifactRef[]> {
  const fetcher = deps.urlFetcher;
  if (!deps.config.ARTIFACTS_FETCH_URLS || !fetcher) return [];
  const urls = findArtifactUrls(output);
  const refs: Array<ArtifactRef | undefined> = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < urls.length; i = next++) {
      const found = urls[i];
      if (!found) continue;
      const fetched = await fetcher.fetchImage(found.url);
      if (!fetched.ok) {
        deps.metrics.count('ArtifactFetchFailures');
        // The reason names the host at most, never the URL: presigned URLs carry credentials in the query.
        await audit(deps, job.jobId, `artifact.${fetched.outcome}`, source, {
          from: found.path,
          reason: fetched.reason,
        });
        continue;
      }
      const name = found.path.replace(/^output\.?/, '').replace(/\[(\d+)\]/g, '-$1') || 'output';
      const key = artifactKey(job.jobId, job.createdAt, firstN + i, name, fetched.ext);
      const stored = await deps.archive.putBinary(key, fetched.body, fetched.contentType);
      refs[i] = { key, contentType: fetched.contentType, bytes: stored.bytes, from: found.path };
    }
  };
  await Promise.all(Array.from({ length: Math.min(URL_FETCH_CONCURRENCY, urls.length) }, worker));
  return refs.filter((ref): ref is ArtifactRef => ref !== undefined);
}

export function errorSummary(error: unknown): string | undefined {
  if (error === undefined || error === null || error === '') return undefined;
  // Redacted before it is shortened: a clipped callback token is still most of one.
  const text = redactText(typeof error === 'string' ? error : JSON.stringify(error));
  return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX)}…` : text;
}

/** Events are best effort: a failed publish is logged and counted, the archive stands. */
export async function publishQuietly(
  deps: Pick<ServiceDeps, 'events' | 'metrics' | 'logger'>,
  type: Parameters<ServiceDeps['events']['publish']>[0],
  job: Job,
): Promise<void> {
  try {
    await deps.events.publish(type, job);
  } catch (err) {
    deps.metrics.count('EventPublishFailures');
    deps.logger.error('event publish failed', { jobId: job.jobId, type, error: String(err) });
  }
}
