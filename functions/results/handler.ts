// Lambda for GET /jobs, /jobs/{jobId}, /jobs/{jobId}/events, /jobs/{jobId}/result and /health: reads, and audits links it issues.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { functionRuntime } from '../composition/function-runtime.ts';
import { dynamoJobs, s3Archive } from '../composition/storage-parts.ts';
import { getJobView, listJobEvents, listJobs, resultUrl } from '../core/results.ts';
import { pathParameter, principalOf, validate } from '../http/requests.ts';
import { json } from '../http/responses.ts';
import { dispatch } from '../http/router.ts';
import { eventsQuerySchema, jobIdSchema, listQuerySchema } from '../schemas/api.ts';

/** Only what this function uses, each built on first use (docs/architecture.md "The deployed shape"). */
const getRuntime = functionRuntime('results', { jobs: dynamoJobs, archive: s3Archive });

export const handler = (event: APIGatewayProxyEventV2, context?: Context) =>
  dispatch(
    event,
    {
      'GET /jobs': async (e, rt) => {
        const query = validate(listQuerySchema, e.queryStringParameters ?? {}, 'query string');
        return json(200, await listJobs(rt, query));
      },
      'GET /jobs/{jobId}': async (e, rt) =>
        json(200, await getJobView(rt, pathParameter(e, 'jobId', jobIdSchema), principalOf(e))),
      'GET /jobs/{jobId}/events': async (e, rt) => {
        const jobId = pathParameter(e, 'jobId', jobIdSchema);
        const page = validate(eventsQuerySchema, e.queryStringParameters ?? {}, 'query string');
        return json(200, await listJobEvents(rt, jobId, page));
      },
      'GET /jobs/{jobId}/result': async (e, rt) => {
        const url = await resultUrl(rt, pathParameter(e, 'jobId', jobIdSchema), principalOf(e));
        return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' }, body: '' };
      },
      'GET /health': async () => json(200, { status: 'ok', time: new Date().toISOString() }),
    },
    getRuntime,
    context,
  );
