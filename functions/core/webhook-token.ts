// Per-job webhook tokens: HMAC-SHA256 over the job id under any of the current secrets, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeTime } from 'ulid';
import { ConfigError } from '../config.ts';

const CONTEXT = 'submodel-archiver/webhook/v1:';

/** The shortest secret accepted: 32 characters, as WEBHOOK_SECRET has always required. */
export const MIN_SECRET_LENGTH = 32;

/** The upstream's default job life (`policy.ttl`) when a job set none: 24 h. */
export const DEFAULT_JOB_LIFE_MS = 24 * 3_600_000;

/** The longest job life the upstream allows (`policy.ttl` ≤ 7 days): no token of ours outlives it. */
export const MAX_JOB_LIFE_MS = 7 * 24 * 3_600_000;

/**
 * The secrets a configured value holds, the signing one first. A plain string is one secret (as before); a
 * JSON array of strings is a rotation in progress: `["new", "old"]` signs with "new" and accepts both, so the
 * callback URLs of jobs still in flight keep working until "old" is dropped.
 * @example webhookSecrets('["b…32 chars…", "a…32 chars…"]') // ['b…', 'a…']
 */
export function webhookSecrets(configured: string | readonly string[]): string[] {
  const list = typeof configured === 'string' ? parseList(configured) : [...configured];
  if (list.length === 0) throw new ConfigError('webhook secret: the list is empty');
  for (const [i, secret] of list.entries()) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH)
      throw new ConfigError(
        `webhook secret: entry ${i} must be a string of at least ${MIN_SECRET_LENGTH} characters`,
      );
  }
  return list;
}

function parseList(text: string): string[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return [text];
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (Array.isArray(parsed)) return parsed as string[];
  } catch {
    // Not JSON: a secret that happens to start with "[" is still one secret.
  }
  return [text];
}

const hmac = (secret: string, jobId: string) =>
  createHmac('sha256', secret)
    .update(CONTEXT + jobId)
    .digest('base64url');

/**
 * The token that goes into `{publicBaseUrl}/webhooks/{jobId}/{token}`; base64url, 43 characters. Given a list
 * (or a configured value holding one), the first secret signs.
 */
export function signWebhookToken(secret: string | readonly string[], jobId: string): string {
  const [first] = webhookSecrets(secret);
  return hmac(first as string, jobId);
}

/**
 * True when `token` is the token of `jobId` under one of the secrets. Every secret is tried whatever the token
 * looks like, so the time taken says nothing about which one (if any) matched, or how close the token came.
 */
export function verifyWebhookToken(
  secret: string | readonly string[],
  jobId: string,
  token: string,
): boolean {
  const given = Buffer.from(token);
  let ok = false;
  for (const candidate of webhookSecrets(secret)) {
    const expected = Buffer.from(hmac(candidate, jobId));
    // Compare equal-length buffers always, so a length mismatch costs the same as a content mismatch.
    const comparable = given.length === expected.length ? given : Buffer.alloc(expected.length);
    const match = timingSafeEqual(comparable, expected) && given.length === expected.length;
    ok = ok || match;
  }
  return ok;
}

/**
 * The last moment a callback for this job can still matter: its creation time (carried by the ULID, which
 * the token signs) plus its job life (`policy.ttl`, else the upstream's 24 h default; the 7-day maximum when
 * the life is not known yet) plus the retention window. After it the upstream can no longer deliver a
 * result for the job, so a call with its token is a replay or a leak, never news.
 */
export function tokenExpiresAt(jobId: string, retentionMs: number, jobLifeMs = MAX_JOB_LIFE_MS): number {
  try {
    return decodeTime(jobId) + jobLifeMs + retentionMs;
  } catch {
    // Not a ULID, so not an id this archiver made: nothing to keep a callback open for.
    return Number.NEGATIVE_INFINITY;
  }
}

export function webhookUrl(publicBaseUrl: string, jobId: string, token: string): string {
  return `${publicBaseUrl}/webhooks/${encodeURIComponent(jobId)}/${token}`;
}
