// Lambda for POST /webhooks/{jobId}/{token}: the upstream's unsigned callback, authenticated by the path token.
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { jobEvents } from '../composition/event-parts.ts';
import { functionRuntime } from '../composition/function-runtime.ts';
import { webhookSecret } from '../composition/secret-parts.ts';
import { dynamoJobs, s3Archive } from '../composition/storage-parts.ts';
import { upstream, urlFetcher } from '../composition/upstream-parts.ts';
import { WebhookAuthError } from '../core/errors.ts';
import { receiveWebhook } from '../core/webhook.ts';
import { bodyBytes, header } from '../http/requests.ts';
import { json } from '../http/responses.ts';
import { dispatch } from '../http/router.ts';
import { jobIdSchema } from '../schemas/api.ts';

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/** Only what this function uses, each built on first use (docs/architecture.md "The deployed shape"). */
const getRuntime = functionRuntime('webhook', {
  jobs: dynamoJobs,
  archive: s3Archive,
  upstream,
  events: jobEvents,
  webhookSecret,
  urlFetcher,
});

/** A malformed escape decodes to '', which then fails like any other malformed path. */
function decoded(raw: string | undefined): string {
  try {
    return decodeURIComponent(raw ?? '');
  } catch {
    return '';
  }
}

export const handler = (event: APIGatewayProxyEventV2, context?: Context) =>
  dispatch(
    event,
    {
      'POST /webhooks/{jobId}/{token}': async (e, rt) => {
        // Path parameters arrive percent-encoded, as for the other handlers (pathParameter decodes them).
        const jobId = decoded(e.pathParameters?.jobId);
        const token = decoded(e.pathParameters?.token);
        // Malformed ids and tokens get the same answer as wrong ones: nothing to learn from the difference.
        if (!jobIdSchema.safeParse(jobId).success || !TOKEN.test(token)) {
          rt.metrics.count('WebhooksRejected');
          throw new WebhookAuthError('malformed path');
        }
        const outcome = await receiveWebhook(rt, {
          jobId,
          token,
          body: bodyBytes(e),
          contentType: header(e, 'content-type'),
        });
        return json(200, { received: true, outcome });
      },
    },
    getRuntime,
    context,
  );
