// Lambda for GET / and GET /assets/{file}: the archive browser's static files, bundled in (assets.ts).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ASSETS } from './assets.ts';
import { fileForPath, staticHeaders } from './static.ts';

const notFound: APIGatewayProxyStructuredResultV2 = {
  statusCode: 404,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: 'Not Found' }),
};

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const method = event.requestContext.http.method;
  if (method !== 'GET' && method !== 'HEAD') return notFound;
  const file = fileForPath(event.rawPath);
  if (file === undefined || !Object.hasOwn(ASSETS, file.name)) return notFound;
  return {
    statusCode: 200,
    headers: staticHeaders(file.contentType),
    body: ASSETS[file.name] ?? '',
    isBase64Encoded: true,
  };
};
