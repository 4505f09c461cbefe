// Listing bounds and cursors from a hostile client: pre-1970 bounds and forged cursors are 400s, never 500s,
// and no cursor makes a listing wider than its query could ask for.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoJobRepository } from '../../../functions/adapters/dynamo-job-repository.ts';
import { handler as results } from '../../../functions/results/handler.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { httpEvent, parseResult } from '../../support/events.ts';
import { testDeps } from '../../support/fakes.ts';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const ddb = mockClient(doc);
const DAY = 86_400_000;

const list = async (query: Record<string, string>) =>
  parseResult(await results(httpEvent({ routeKey: 'GET /jobs', path: '/jobs', query })));
const decode = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('GET /jobs bounds and cursors', () => {
  beforeEach(() => {
    ddb.reset();
    // Every day partition holds one more job, so every page has a next one.
    ddb.on(QueryCommand).resolves({
      Items: [{ jobId: '01JDXKQ5N8Y3V7M2R6T4W00001', state: 'PENDING' }],
      LastEvaluatedKey: { x: 1 },
    });
    // The listing indexes hold keys only: the page reads its jobs back by key.
    ddb
      .on(BatchGetCommand)
      .callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => ({
        Responses: {
          t: (input.RequestItems.t?.Keys ?? []).map((key) => ({
            ...key,
            jobId: key.pk.slice(4),
            state: 'PENDING',
          })),
        },
      }));
    setRuntime({
      ...testDeps(),
      jobs: new DynamoJobRepository({ client: doc, tableName: 't', dueShards: 4 }),
    });
  });
  afterEach(() => setRuntime(undefined));

  it.each([
    ['from', { from: '1969-12-31T23:59:59Z' }],
    ['to', { to: '1969-07-20T20:17:00Z', from: '1969-07-01T00:00:00Z' }],
  ])('answers a %s before 1970 with 400', async (_, query) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.json?.error.code).toBe('INVALID_REQUEST');
  });

  it('lists from 1970 when a default 30-day range would reach before it', async () => {
    expect((await list({ to: '1970-01-02T00:00:00Z' })).status).toBe(200);
  });

  it('answers any forged cursor with 400 INVALID_CURSOR, never 500', async () => {
    const query = { from: '2026-11-20T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', limit: '1' };
    const issued = decode((await list(query)).json?.cursor);
    const field = fc.constantFrom('f', 't', 'd', 'k', 'q', 'v');
    const junk = fc.oneof(
      fc.constantFrom('1969-12-31T00:00:00.000Z', '2026-13-45', '0000-00-00', '2026-02-30', 'U'.repeat(26)),
      fc.jsonValue({ maxDepth: 1 }),
    );
    await fc.assert(
      fc.asyncProperty(field, junk, async (name, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(issued[name]));
        const res = await list({ ...query, cursor: encode({ ...issued, [name]: value }) });
        expect(res.status).toBe(400);
        expect(res.json?.error.code).toBe('INVALID_CURSOR');
      }),
      { numRuns: 150 },
    );
    expect((await list({ ...query, cursor: encode(issued) })).status).toBe(200);
  });

  it('refuses a cursor whose range is wider than the query that carries it', async () => {
    const query = { from: '2026-11-20T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', limit: '1' };
    const issued = decode((await list(query)).json?.cursor);
    const wider = [
      { ...issued, f: '2026-01-01T00:00:00.000Z' },
      { ...issued, t: '2026-11-30T00:00:00.000Z' },
      // Past the 400-day limit, whatever the query.
      { ...issued, f: '2024-01-01T00:00:00.000Z' },
    ];
    for (const cursor of wider) {
      const res = await list({ ...query, cursor: encode(cursor) });
      expect(res.status).toBe(400);
      expect(res.json?.error.code).toBe('INVALID_CURSOR');
    }
  });

  it('keeps a defaulted range at its default length and never past now', async () => {
    const issued = decode((await list({ limit: '1' })).json?.cursor);
    const t = Date.parse(issued.t);
    const grown = { ...issued, f: new Date(t - 200 * DAY).toISOString() };
    const future = { ...issued, t: new Date(t + 30 * DAY).toISOString(), d: issued.d };
    for (const cursor of [grown, future]) {
      expect((await list({ limit: '1', cursor: encode(cursor) })).json?.error.code).toBe('INVALID_CURSOR');
    }
    expect((await list({ limit: '1', cursor: encode(issued) })).status).toBe(200);
  });

  it('issues cursors the API takes back however long the filters are', async () => {
    const query = {
      principal: `arn:aws:sts::123456789012:assumed-role/${'r'.repeat(2000)}`,
      tag: `k=${'v'.repeat(256)}`,
      limit: '1',
    };
    const first = await list(query);
    expect(first.status).toBe(200);
    expect(first.json?.cursor.length).toBeLessThanOrEqual(2048);
    expect((await list({ ...query, cursor: first.json?.cursor })).status).toBe(200);
    const otherPrincipal = { ...query, principal: 'arn:aws:iam::123456789012:user/bob' };
    expect((await list({ ...otherPrincipal, cursor: first.json?.cursor })).json?.error.code).toBe(
      'INVALID_CURSOR',
    );
  });
});
