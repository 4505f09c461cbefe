import { describe, expect, it } from 'vitest';
import { signWebhookToken, verifyWebhookToken, webhookUrl } from '../../../functions/core/webhook-token.ts';

const SECRET = 'a-secret-that-is-long-enough-to-count-0001';
const JOB = '01JDXKQ5N8Y3V7M2R6T4W9Z0AB';

describe('webhook tokens', () => {
  const token = signWebhookToken(SECRET, JOB);

  it('accepts the token of its own job', () => {
    expect(verifyWebhookToken(SECRET, JOB, token)).toBe(true);
  });

  it.each([
    ['another job', () => verifyWebhookToken(SECRET, '01JDXKQ5N8Y3V7M2R6T4W9Z0AC', token)],
    ['another secret', () => verifyWebhookToken(`${SECRET}x`, JOB, token)],
    ['a truncated token', () => verifyWebhookToken(SECRET, JOB, token.slice(0, -1))],
    ['a padded token', () => verifyWebhookToken(SECRET, JOB, `${token}A`)],
    ['an empty token', () => verifyWebhookToken(SECRET, JOB, '')],
    [
      'a token with one flipped character',
      () => verifyWebhookToken(SECRET, JOB, (token[0] === 'A' ? 'B' : 'A') + token.slice(1)),
    ],
  ])('rejects %s', (_, check) => {
    expect(check()).toBe(false);
  });

  it('builds a URL-safe callback URL', () => {
    const url = webhookUrl('https://x.example', JOB, token);
    expect(url).toBe(`https://x.example/webhooks/${JOB}/${token}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
