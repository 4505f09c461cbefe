// Who did what: the IAM principal of API Gateway's real IAM-authorized event (Powertools' apigw-http fixture)
// is recorded on the job and on every audit event the call caused, filters listings and scopes idempotency.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as results } from '../../../functions/results/handler.ts';
import { setRuntime } from '../../../functions/runtime.ts';
import { handler as submit } from '../../../functions/submit/handler.ts';
import { type EventOptions, fixtureEvent, httpEvent, parseResult } from '../../support/events.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';

/** The caller API Gateway verified in the recorded event. */
const iamFixture = fixtureEvent('apigw-http-iam-auth');
const ADMIN = 'arn:aws:sts::123456789012:assumed-role/Admin/aamorosi';
const OTHER = 'arn:aws:iam::123456789012:user/bob';

/** An event for `o` whose authorizer block is the fixture's, its userArn optionally replaced. */
function signedBy(o: EventOptions, userArn?: string): APIGatewayProxyEventV2 {
  const event = httpEvent(o);
  const authorizer = structuredClone(
    (iamFixture.requestContext as unknown as { authorizer: { iam: Record<string, unknown> } }).authorizer,
  );
  if (userArn) authorizer.iam.userArn = userArn;
  return { ...event, requestContext: { ...event.requestContext, authorizer } } as APIGatewayProxyEventV2;
}

const unsigned = (o: EventOptions): APIGatewayProxyEventV2 => {
  const event = httpEvent(o);
  const { authorizer: _none, ...context } = event.requestContext as unknown as Record<string, unknown>;
  return { ...event, requestContext: context } as unknown as APIGatewayProxyEventV2;
};

describe('the principal of IAM-signed calls', () => {
  let deps: TestDeps;
  beforeEach(() => {
    deps = testDeps();
    setRuntime(deps);
  });
  afterEach(() => setRuntime(undefined));

  const submitAs = async (userArn?: string, headers: Record<string, string> = {}) =>
    parseResult(
      await submit(
        signedBy({ routeKey: 'POST /jobs', path: '/jobs', body: '{"input":{"p":1}}', headers }, userArn),
      ),
    );
  const actors = async (jobId: string) =>
    Object.fromEntries((await deps.jobs.listEvents(jobId)).map((e) => [e.type, e.actor]));

  it('reads the fixture as API Gateway sends it: the job says who submitted it, and so does each event of the call', async () => {
    const res = await submitAs();
    expect(res.status).toBe(202);
    const job = await deps.jobs.get(res.json?.job.jobId);
    expect(job?.submittedBy).toBe(ADMIN);
    expect(res.json?.job.submittedBy).toBe(ADMIN);
    expect(await actors(res.json?.job.jobId)).toMatchObject({
      created: ADMIN,
      'input.archived': ADMIN,
      submitted: ADMIN,
    });
  });

  it('records who tracked, cancelled and reconciled a job', async () => {
    deps.upstream.statuses.set('ext-1', { id: 'ext-1', status: 'IN_PROGRESS' });
    const tracked = parseResult(
      await submit(
        signedBy(
          { routeKey: 'POST /jobs/track', path: '/jobs/track', body: '{"upstreamId":"ext-1"}' },
          OTHER,
        ),
      ),
    );
    const jobId = tracked.json?.job.jobId;
    expect(tracked.json?.job.trackedBy).toBe(OTHER);
    const route = (action: string) => ({
      routeKey: `POST /jobs/{jobId}/${action}`,
      path: `/jobs/${jobId}/${action}`,
      pathParameters: { jobId },
    });
    expect((await submit(signedBy(route('reconcile')))).statusCode).toBe(200);
    expect((await submit(signedBy(route('cancel')))).statusCode).toBe(200);
    expect(await actors(jobId)).toMatchObject({
      tracked: OTHER,
      reconciled: ADMIN,
      'cancel.requested': ADMIN,
    });
    // The upstream's and the sweeper's events are nobody's call.
    const archived = (await deps.jobs.listEvents(jobId)).find((e) => e.type === 'archived');
    expect(archived?.actor).toBeUndefined();
  });

  it('audits who was issued download links, by GET /jobs/{jobId} and by /result', async () => {
    const jobId = (await submitAs()).json?.job.jobId;
    await deps.jobs.arrange(jobId, { resultKey: 'jobs/r.json' });
    const read = { routeKey: 'GET /jobs/{jobId}', path: `/jobs/${jobId}`, pathParameters: { jobId } };
    expect((await results(signedBy(read, OTHER))).statusCode).toBe(200);
    const result = { ...read, routeKey: 'GET /jobs/{jobId}/result', path: `/jobs/${jobId}/result` };
    expect((await results(signedBy(result))).statusCode).toBe(302);
    // The events themselves; their tally item counts them too.
    const issued = (await deps.jobs.listEvents(jobId)).filter(
      (e) => e.type === 'links.issued' && e.count === undefined,
    );
    expect(issued.map((e) => [e.actor, e.detail?.route])).toEqual([
      [OTHER, 'job'],
      [ADMIN, 'result'],
    ]);
  });

  it('lists only the jobs a principal submitted or tracked with ?principal=', async () => {
    const mine = (await submitAs()).json?.job.jobId;
    await submitAs(OTHER);
    const res = parseResult(
      await results(signedBy({ routeKey: 'GET /jobs', path: '/jobs', query: { principal: ADMIN } })),
    );
    expect(res.json?.jobs.map((j: { jobId: string }) => j.jobId)).toEqual([mine]);
    const bad = parseResult(
      await results(signedBy({ routeKey: 'GET /jobs', path: '/jobs', query: { principal: 'alice' } })),
    );
    expect(bad.status).toBe(400);
  });

  it('scopes Idempotency-Keys to their caller: another principal with the same key gets its own job', async () => {
    const key = { 'idempotency-key': 'order-12345' };
    const first = await submitAs(ADMIN, key);
    const replay = await submitAs(ADMIN, key);
    const other = await submitAs(OTHER, key);
    expect(replay.json?.job.jobId).toBe(first.json?.job.jobId);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(other.status).toBe(202);
    expect(other.json?.job.jobId).not.toBe(first.json?.job.jobId);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.json?.job.submittedBy).toBe(OTHER);
    expect(deps.upstream.count('run')).toBe(2);
  });

  it('records no principal for an unsigned call', async () => {
    const res = parseResult(
      await submit(unsigned({ routeKey: 'POST /jobs', path: '/jobs', body: '{"input":{}}' })),
    );
    expect(res.status).toBe(202);
    expect(res.json?.job.submittedBy).toBeUndefined();
    expect(await actors(res.json?.job.jobId)).toMatchObject({ created: undefined });
  });
});
