// Per-job webhook tokens: HMAC-SHA256 over the job id, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

const CONTEXT = 'submodel-archiver/webhook/v1:';

/** The token that goes into `{publicBaseUrl}/webhooks/{jobId}/{token}`; base64url, 43 characters. */
export function signWebhookToken(secret: string, jobId: string): string {
  return createHmac('sha256', secret)
    .update(CONTEXT + jobId)
    .digest('base64url');
}

/** True when `token` is the token of `jobId`. Runs in the same time whatever the token looks like. */
export function verifyWebhookToken(secret: string, jobId: string, token: string): boolean {
  const expected = Buffer.from(signWebhookToken(secret, jobId));
  const given = Buffer.from(token);
  // Compare equal-length buffers always, so a length mismatch costs the same as a content mismatch.
  const comparable = given.length === expected.length ? given : Buffer.alloc(expected.length);
  return timingSafeEqual(comparable, expected) && given.length === expected.length;
}

export function webhookUrl(publicBaseUrl: string, jobId: string, token: string): string {
  return `${publicBaseUrl}/webhooks/${encodeURIComponent(jobId)}/${token}`;
}
