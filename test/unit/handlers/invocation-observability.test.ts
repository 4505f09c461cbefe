// What an operator sees of one request: every log line names the Lambda request, the API request and the job; metrics come in one flush.
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EmfMetrics } from '../../../functions/adapters/emf-metrics.ts';
import { JsonLogger } from '../../../functions/adapters/logger.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler as sweeperHandler } from '../../../functions/sweeper/handler.ts';
import { handler as webhookHandler } from '../../../functions/webhook/handler.ts';
import { fixtureEvent } from '../../support/events.ts';
import { testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const body = readFileSync('test/fixtures/webhook/completed.json', 'utf8');

function observedDeps() {
  const logLines: string[] = [];
  const emfLines: string[] = [];
  const deps = {
    ...testDeps(),
    logger: new JsonLogger({ level: 'debug', service: 'archiver', write: (l) => logLines.push(l) }),
    metrics: new EmfMetrics({
      namespace: 'Archiver',
      service: 'archiver',
      functionName: 'webhook-fn',
      write: (l) => emfLines.push(l),
    }),
  };
  setRuntime(deps);
  return {
    deps,
    logs: () => logLines.map((l) => JSON.parse(l)),
    emf: () => emfLines.map((l) => JSON.parse(l)),
  };
}

const lambdaContext = (awsRequestId: string) =>
  ({
    awsRequestId,
    functionName: 'webhook-fn',
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

describe('observability of one invocation', () => {
  afterEach(() => setRuntime(undefined));

  it('names the Lambda request, the API request, the job and its endpoint on every line, and flushes metrics once', async () => {
    const { deps, logs, emf } = observedDeps();
    const job = pendingJob({ upstreamId: JSON.parse(body).id });
    await deps.jobs.create(job);
    const { input: _input, webhook: _webhook, ...status } = JSON.parse(body);
    deps.upstream.statuses.set(status.id, status);
    const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
    const event = fixtureEvent('post-webhook');
    const res = await webhookHandler(
      {
        ...event,
        rawPath: `/webhooks/${job.jobId}/${token}`,
        pathParameters: { jobId: job.jobId, token },
        body,
      },
      lambdaContext('lambda-req-1'),
    );
    expect(res.statusCode).toBe(200);
    const lines = logs();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(line).toMatchObject({
        function_request_id: 'lambda-req-1',
        function_name: 'webhook-fn',
        requestId: event.requestContext.requestId,
        jobId: job.jobId,
      });
    expect(lines.find((l) => l.message === 'job archived')).toMatchObject({ endpoint: job.endpoint });
    // No line carries the callback token, even the ones naming the job.
    expect(JSON.stringify(lines)).not.toContain(token);
    const docs = emf();
    // The container's first invocation: ColdStart, then the service-level and the endpoint's documents.
    expect(docs.map((d) => d.endpoint ?? (d.ColdStart ? 'cold' : 'service'))).toEqual([
      'cold',
      'service',
      job.endpoint,
    ]);
    expect(docs[1]).toMatchObject({ WebhooksReceived: 1 });
    expect(docs[2]).toMatchObject({ JobsArchived: 1, endpoint: job.endpoint });
    expect(lines.filter((l) => 'cold_start' in l).every((l) => l.cold_start === true)).toBe(true);

    // The next invocation of the container is warm, and its metrics are its own.
    const refused = await webhookHandler(
      { ...event, rawPath: `/webhooks/${job.jobId}/x`, pathParameters: { jobId: job.jobId, token: 'x' } },
      lambdaContext('lambda-req-2'),
    );
    expect(refused.statusCode).toBe(401);
    const second = logs().slice(lines.length);
    expect(second.length).toBeGreaterThan(0);
    for (const line of second)
      expect(line).toMatchObject({ function_request_id: 'lambda-req-2', cold_start: false });
    expect(emf().slice(docs.length)).toEqual([expect.objectContaining({ WebhooksRejected: 1 })]);
  });

  it('names the sweeper invocation on its lines and writes its metrics when it ends', async () => {
    const { logs, emf } = observedDeps();
    await sweeperHandler(fixtureEvent('scheduled') as never, lambdaContext('sweep-req'));
    const lines = logs();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatchObject({ function_request_id: 'sweep-req' });
    expect(emf().some((d) => 'OldestDueAgeMs' in d)).toBe(true);
  });
});
