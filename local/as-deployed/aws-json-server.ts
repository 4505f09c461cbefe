// A minimal AWS JSON 1.1 server: `POST /` with `X-Amz-Target: Prefix.Operation`, errors as `{__type, message}`.
import { createServer } from 'node:http';
import { closeServer, listen, serverUrl } from '../stores/net.ts';

/** An error the service answers with its AWS error code (ResourceNotFoundException...). */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export type JsonOperation = (input: Record<string, unknown>) => unknown;

export interface AwsJsonServer {
  endpoint: string;
  stop(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Serves `operations` under `targetPrefix` on 127.0.0.1 (free port); unknown operations answer UnknownOperationException. */
export async function startAwsJsonServer(
  targetPrefix: string,
  operations: Record<string, JsonOperation>,
): Promise<AwsJsonServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': crypto.randomUUID() });
        res.end(JSON.stringify(body));
      };
      const fail = (error: AwsServiceError) =>
        send(error.status, { __type: error.code, message: error.message });
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith(`${targetPrefix}.`)
        ? operations[target.slice(targetPrefix.length + 1)]
        : undefined;
      if (req.method !== 'POST' || operation === undefined) {
        fail(new AwsServiceError('UnknownOperationException', `unknown operation ${target || '(none)'}`));
        return;
      }
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''))) {
        fail(
          new AwsServiceError(
            'MissingAuthenticationTokenException',
            'Request is missing Authentication Token',
          ),
        );
        return;
      }
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        fail(new AwsServiceError('SerializationException', 'body is not JSON'));
        return;
      }
      try {
        send(200, operation(input));
      } catch (error) {
        fail(
          error instanceof AwsServiceError
            ? error
            : new AwsServiceError('InternalFailure', String(error), 500),
        );
      }
    });
  });
  await listen(server, 0, '127.0.0.1');
  return { endpoint: serverUrl(server), stop: () => closeServer(server) };
}
