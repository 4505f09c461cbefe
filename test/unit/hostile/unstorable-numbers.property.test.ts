// Numbers DynamoDB cannot hold: a /status answer is archived byte for byte without them on the record; a
// webhook body carrying them is not trusted.
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../../../functions/adapters/upstream/index.ts';
import { captureResult } from '../../../functions/core/capture.ts';
import type { UpstreamClient } from '../../../functions/core/upstream-port.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { isStorableNumber } from '../../../functions/schemas/upstream.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';
import { type FakeUpstream, startFakeUpstream } from '../adapters/upstream/fake-upstream.ts';

/** JSON number literals the store cannot take: past the safe integers, past double range, below 1E-130. */
const unstorableLiteral = fc.oneof(
  fc.constantFrom('9007199254740993', '-9007199254740993', '1e400', '-1e400', '1e-200', '1.5e308'),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !isStorableNumber(n))
    .map((n) => JSON.stringify(n)),
);
const field = fc.constantFrom('delayTime', 'executionTime');

let upstream: FakeUpstream;
let client: UpstreamClient;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  client = createUpstreamClient({
    endpoints: { default: `${upstream.origin}/v2/ep` },
    apiKey: async () => 'key',
    retry: { maxAttempts: 1 },
  });
});
afterAll(() => upstream.close());

describe('numbers the store cannot hold', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    upstream.reset();
  });

  it('archives a /status answer with them: result.json keeps its bytes, the record leaves them out and the trail says so', async () => {
    await fc.assert(
      fc.asyncProperty(field, unstorableLiteral, async (name, literal) => {
        const job = pendingJob({ upstreamId: 'up-big' });
        await deps.jobs.create(job);
        const body = `{"id":"up-big","status":"COMPLETED","${name}":${literal},"output":{"text":"ok"}}`;
        upstream.reply({ body });
        const fetched = await client.status('default', 'up-big');
        const outcome = await captureResult(deps, job, { ...fetched, source: 'sweeper' });

        expect(outcome.kind).toBe('archived');
        const record = await deps.jobs.get(job.jobId);
        expect(record?.state).toBe('ARCHIVED');
        expect(record?.[name]).toBeUndefined();
        const stored = deps.archive.objects.get(record?.resultKey ?? '')?.body.toString('utf8');
        expect(stored).toContain(`"${name}":${literal}`);
        const archived = (await deps.jobs.listEvents(job.jobId)).find((e) => e.type === 'archived');
        expect(archived?.detail?.unstorable).toEqual({ [name]: String(JSON.parse(literal)) });
      }),
      { numRuns: 40 },
    );
  });

  it('keeps storable numbers on the record', async () => {
    const job = pendingJob({ upstreamId: 'up-ok' });
    await deps.jobs.create(job);
    upstream.reply({ body: '{"id":"up-ok","status":"COMPLETED","delayTime":12,"executionTime":0.5}' });
    await captureResult(deps, job, { ...(await client.status('default', 'up-ok')), source: 'sweeper' });
    expect(await deps.jobs.get(job.jobId)).toMatchObject({ delayTime: 12, executionTime: 0.5 });
  });

  it('does not archive a webhook body with them: the result comes from /status', async () => {
    await fc.assert(
      fc.asyncProperty(field, unstorableLiteral, async (name, literal) => {
        const job = pendingJob({ upstreamId: 'up-hook' });
        await deps.jobs.create(job);
        deps.upstream.statuses.set('up-hook', { id: 'up-hook', status: 'COMPLETED', executionTime: 7 });
        const body = Buffer.from(`{"id":"up-hook","status":"COMPLETED","${name}":${literal}}`);
        const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
        const statusCalls = deps.upstream.count('status');

        expect(
          await receiveWebhook(deps, { jobId: job.jobId, contentType: 'application/json', token, body }),
        ).toBe('archived');
        expect(deps.upstream.count('status')).toBe(statusCalls + 1);
        expect((await deps.jobs.get(job.jobId))?.executionTime).toBe(7);
      }),
      { numRuns: 25 },
    );
  });
});
