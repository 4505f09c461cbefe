// One redaction for logs, error answers and everything stored: a callback token leaks in no encoding.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonLogger } from '../../../functions/adapters/logger.ts';
import { audit } from '../../../functions/core/audit.ts';
import { captureResult } from '../../../functions/core/capture.ts';
import { UpstreamInvalidResponseError, UpstreamRefusedError } from '../../../functions/core/errors.ts';
import { REDACTED, redactText, redactValue } from '../../../functions/core/redaction.ts';
import { signWebhookToken, webhookUrl } from '../../../functions/core/webhook-token.ts';
import { errorResponse } from '../../../functions/http/responses.ts';
import { RecordingLogger, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const JOB = '01JDXKQ5N8Y3V7M2R6T4W9Z0AB';

/** The ways a callback URL is rewritten on its way into an upstream's echo, a log line or a stored detail. */
const ENCODINGS: Record<string, (text: string) => string> = {
  plain: (t) => t,
  json: (t) => JSON.stringify(t),
  'json twice': (t) => JSON.stringify(JSON.stringify({ webhook: t })),
  'json with escaped slashes': (t) => JSON.stringify(t).replaceAll('/', '\\/'),
  'escaped slashes, escaped again': (t) => JSON.stringify(JSON.stringify(t).replaceAll('/', '\\/')),
  'unicode-escaped slashes': (t) => t.replaceAll('/', '\\u002F'),
  percent: (t) => encodeURIComponent(t),
  'percent, lower case': (t) => encodeURIComponent(t).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  'percent twice': (t) => encodeURIComponent(encodeURIComponent(t)),
  'percent inside json': (t) => JSON.stringify({ callback: encodeURIComponent(t) }),
  'html entities': (t) => t.replaceAll('/', '&#x2F;'),
  'html decimal entities': (t) => t.replaceAll('/', '&#47;'),
};

/** Every 12-character window of the token: most of a token leaks it as surely as all of it. */
const leaks = (text: string, token: string) =>
  Array.from({ length: token.length - 11 }, (_, i) => token.slice(i, i + 12)).some((w) => text.includes(w));

const token = fc.string({ minLength: 8, maxLength: 40 }).map((s) => signWebhookToken(WEBHOOK_SECRET, s));
const jobId = fc.oneof(
  fc.constant(JOB),
  fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,40}$/),
);
const base = fc.constantFrom(
  'https://archiver.example.com',
  'http://127.0.0.1:8787',
  'https://a.b/prefix/stage',
);
const around = fc.string({ maxLength: 60 }).filter((s) => !/[A-Za-z0-9_-]$/.test(s));
const encoding = fc.constantFrom(...Object.keys(ENCODINGS));

describe('redaction over encodings', () => {
  it('removes the token from a callback URL in any encoding, wherever it sits in the text', () => {
    fc.assert(
      fc.property(base, jobId, token, around, around, encoding, (b, id, t, before, after, how) => {
        const encode = ENCODINGS[how] as (text: string) => string;
        const text = `${before}${encode(webhookUrl(b, id, t))}${after.replace(/^[A-Za-z0-9_-]+/, '')}`;
        const redacted = redactText(text);
        expect(leaks(redacted, t), `${how}: ${redacted}`).toBe(false);
        expect(redacted).toContain(REDACTED);
        // Idempotent: redacting twice changes nothing more.
        expect(redactText(redacted)).toBe(redacted);
      }),
      { numRuns: 500 },
    );
  });

  it('removes a token clipped to any length (an excerpt cut mid-token)', () => {
    fc.assert(
      fc.property(token, fc.integer({ min: 6, max: 43 }), encoding, (t, n, how) => {
        const encode = ENCODINGS[how] as (text: string) => string;
        const url = webhookUrl('https://x.example', JOB, t);
        const clipped = encode(url.slice(0, url.length - (43 - n)));
        expect(redactText(clipped)).not.toContain(t.slice(0, n));
      }),
    );
  });

  it('leaves text without a callback URL alone', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        fc.pre(!/webhooks/i.test(text));
        expect(redactText(text)).toBe(text);
      }),
    );
    const presigned = 'https://bucket.s3.amazonaws.com/jobs%2F2026%2Fresult.json?X-Amz-Signature=abc';
    expect(redactText(presigned)).toBe(presigned);
  });

  it('walks nested values: strings, keys, and secret-named fields', () => {
    const t = signWebhookToken(WEBHOOK_SECRET, JOB);
    const url = webhookUrl('https://x.example', JOB, t);
    const value = {
      a: [{ b: url }],
      [url]: 1,
      authorization: 'Bearer abc',
      apiKey: 'k',
      count: 3,
      none: null,
    };
    const redacted = redactValue(value);
    expect(JSON.stringify(redacted)).not.toContain(t);
    expect(redacted).toMatchObject({ authorization: REDACTED, apiKey: REDACTED, count: 3, none: null });
  });
});

describe('every outlet uses the one redaction', () => {
  const t = signWebhookToken(WEBHOOK_SECRET, JOB);
  const echo = JSON.stringify({ webhook: webhookUrl('https://x.example', JOB, t) }).replaceAll('/', '\\/');

  it('logs', () => {
    const lines: string[] = [];
    new JsonLogger({ level: 'debug', service: 's', write: (l) => lines.push(l) }).info('echo', {
      body: echo,
      encoded: encodeURIComponent(echo),
    });
    expect(leaks(lines.join('\n'), t)).toBe(false);
  });

  it('error answers and error messages (an upstream echoing the /run body, JSON-escaped)', () => {
    const logger = new RecordingLogger();
    for (const err of [
      new UpstreamRefusedError('run', 400, echo),
      new UpstreamInvalidResponseError('run', `not JSON: ${JSON.stringify(echo.slice(0, 120))}`),
    ]) {
      expect(leaks(err.message + JSON.stringify(err.details), t)).toBe(false);
      expect(leaks(errorResponse(err, logger).body ?? '', t)).toBe(false);
    }
    expect(leaks(JSON.stringify(logger.lines), t)).toBe(false);
  });

  it('audit details, which are stored for good and shown by GET /jobs/{id} (F2)', async () => {
    const deps = testDeps();
    await audit(deps, JOB, 'submit.ambiguous', 'api', {
      code: 'UPSTREAM_INVALID_RESPONSE',
      message: `Upstream answered run with an unexpected body: ${encodeURIComponent(echo)}`,
      nested: { echo },
    });
    expect(leaks(JSON.stringify(deps.jobs.events), t)).toBe(false);
  });

  it("a FAILED job's reason, when the worker's error quotes the callback URL", async () => {
    const deps = testDeps();
    const job = pendingJob({ upstreamId: 'up-failed' });
    await deps.jobs.create(job);
    const error = JSON.stringify({ message: 'cannot reach', url: encodeURIComponent(echo), raw: echo });
    await captureResult(deps, job, {
      status: { id: 'up-failed', status: 'FAILED', error },
      source: 'sweeper',
    });
    const stored = await deps.jobs.get(job.jobId);
    expect(stored?.reason).toContain('cannot reach');
    expect(leaks(JSON.stringify([stored, deps.jobs.events]), t)).toBe(false);
  });
});
