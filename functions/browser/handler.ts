// Lambda for GET / and GET /assets/{file}: the archive browser's static files, bundled in (assets.ts).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ASSETS } from './assets.ts';
import { fileForPath, staticHeaders } from './static.ts';

/** Unknown files and, as the API's `$default` route, every unknown route: the documented error shape. */
const notFound = (event: APIGatewayProxyEventV2): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 404,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    error: {
      code: 'ROUTE_NOT_FOUND',
      message: `No route for ${event.requestContext.http.method} ${event.rawPath}`,
      details: {},
    },
  }),
});

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const method = event.requestContext.http.method;
  if (method !== 'GET' && method !== 'HEAD') return notFound(event);
  const file = fileForPath(event.rawPath);
  if (file === undefined || !Object.hasOwn(ASSETS, file.name)) return notFound(event);
  return {
    statusCode: 200,
    headers: staticHeaders(file.contentType),
    body: ASSETS[file.name] ?? '',
    isBase64Encoded: true,
  };
};
