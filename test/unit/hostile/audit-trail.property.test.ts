// Hostile input on the audit trail's surfaces: events cursors and limits, principal filters and whatever an
// authorizer block holds. Always a 200 or a clear 400, never a 5xx, and nothing written.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoJobRepository } from '../../../functions/adapters/dynamo-job-repository.ts';
import { principalOf } from '../../../functions/http/requests.ts';
import { handler as results } from '../../../functions/results/handler.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

afterEach(() => setRuntime(undefined));

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const ddb = mockClient(doc);

const queryValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 3000 }),
  fc.constantFrom(
    '0',
    '-1',
    '501',
    '1e3',
    'NaN',
    '',
    'RVZFTlQj',
    Buffer.from('EVENT#\u0000').toString('base64url'),
  ),
  fc.base64String().map((b) => b.replace(/=+$/, '')),
);

describe('GET /jobs/{jobId}/events from a hostile client', () => {
  it('answers any cursor and limit with 200 or 400 (DynamoDB adapter), and writes nothing', async () => {
    const job = pendingJob();
    ddb.reset();
    ddb.on(GetCommand).resolves({ Item: { pk: `JOB#${job.jobId}`, sk: 'JOB', ...job } });
    ddb.on(QueryCommand).resolves({ Items: [] });
    const deps = testDeps();
    setRuntime({ ...deps, jobs: new DynamoJobRepository({ client: doc, tableName: 't', dueShards: 4 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.record({ cursor: queryValue, limit: queryValue }, { requiredKeys: [] }),
        async (query) => {
          const res = parseResult(
            await results(
              httpEvent({
                routeKey: 'GET /jobs/{jobId}/events',
                path: `/jobs/${job.jobId}/events`,
                pathParameters: { jobId: job.jobId },
                query,
              }),
            ),
          );
          expect([200, 400]).toContain(res.status);
          if (res.status === 400)
            expect(['INVALID_CURSOR', 'INVALID_REQUEST']).toContain(res.json?.error.code);
        },
      ),
      { numRuns: 300 },
    );
    // Reading the trail issues no links and writes no audit line.
    expect(ddb.commandCalls(QueryCommand).length).toBeGreaterThan(0);
    expect(
      ddb.calls().filter((c) => !['GetCommand', 'QueryCommand'].includes(c.args[0].constructor.name)),
    ).toEqual([]);
  });

  it('answers any principal filter with 200 or 400', async () => {
    setRuntime(testDeps());
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          queryValue,
          fc.string().map((s) => `arn:${s}`),
        ),
        async (principal) => {
          const res = parseResult(
            await results(httpEvent({ routeKey: 'GET /jobs', path: '/jobs', query: { principal } })),
          );
          expect([200, 400]).toContain(res.status);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('principalOf', () => {
  it('reads an ARN from whatever the authorizer block holds, and nothing else', () => {
    const block = fc.oneof(
      fc.constant(undefined),
      fc.anything({ maxDepth: 2 }),
      fc.record({ iam: fc.anything({ maxDepth: 2 }) }),
      fc.record({
        iam: fc.record({ userArn: fc.oneof(fc.anything({ maxDepth: 1 }), fc.string({ maxLength: 3000 })) }),
      }),
    );
    fc.assert(
      fc.property(block, (authorizer) => {
        const event = httpEvent({ routeKey: 'POST /jobs', path: '/jobs' });
        const hostile = {
          ...event,
          requestContext: { ...event.requestContext, authorizer },
        } as unknown as APIGatewayProxyEventV2;
        const principal = principalOf(hostile);
        if (principal !== undefined) {
          expect(principal).toMatch(/^arn:[\x21-\x7e]+$/);
          expect(principal.length).toBeLessThanOrEqual(2048);
        }
      }),
      { numRuns: 500 },
    );
  });
});
