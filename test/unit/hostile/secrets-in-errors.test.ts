// Error answers never carry a callback token, even when an upstream echoes the /run body that held it.
import { describe, expect, it } from 'vitest';
import { UpstreamRefusedError } from '../../../functions/core/errors.ts';
import { signWebhookToken, webhookUrl } from '../../../functions/core/webhook-token.ts';
import { errorResponse } from '../../../functions/http/responses.ts';
import { RecordingLogger, WEBHOOK_SECRET } from '../../support/fakes.ts';

describe('error answers and secrets', () => {
  it('redacts a callback token an upstream echoed into a refusal', () => {
    const token = signWebhookToken(WEBHOOK_SECRET, '01JDXKQ5N8Y3V7M2R6T4W9Z0AB');
    const echoed = JSON.stringify({
      error: 'invalid webhook',
      request: { webhook: webhookUrl('https://archiver.example.com', '01JDXKQ5N8Y3V7M2R6T4W9Z0AB', token) },
    });
    const logger = new RecordingLogger();
    const res = errorResponse(new UpstreamRefusedError('run', 400, echoed), logger);
    expect(res.statusCode).toBe(422);
    expect(res.body).not.toContain(token);
    expect(res.body).toContain('/webhooks/01JDXKQ5N8Y3V7M2R6T4W9Z0AB/[redacted]');
    expect(JSON.stringify(logger.lines)).not.toContain(token);
  });

  it('never echoes an unexpected error, which may hold anything', () => {
    const logger = new RecordingLogger();
    const res = errorResponse(new Error(`boom ${WEBHOOK_SECRET}`), logger, 'req-1');
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain(WEBHOOK_SECRET);
    expect(JSON.parse(res.body ?? '{}')).toEqual({
      error: { code: 'INTERNAL', message: 'Internal error', details: { requestId: 'req-1' } },
    });
  });
});
