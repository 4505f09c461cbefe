// An HTTP proxy in front of a local store that records each AWS call: who signed it and what IAM it needed.
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { closeServer, listen, serverUrl } from '../stores/net.ts';
import {
  type AccountScope,
  type AwsService,
  accessKeyOf,
  dynamoAuthorizations,
  eventsAuthorizations,
  type RecordedCall,
  s3Authorizations,
  secretsAuthorizations,
} from './aws-calls.ts';

/** Every call recorded by the proxies, and which function each access key belongs to. */
export class CallRecorder {
  readonly calls: RecordedCall[] = [];
  /** Requests the proxies could not map to IAM actions: a gap in the classifier, never ignored. */
  readonly unclassified: { service: AwsService; request: string; error: string }[] = [];
  private readonly callers = new Map<string, string>();

  /** Names the function whose requests are signed with `accessKeyId`. */
  register(accessKeyId: string, caller: string): void {
    this.callers.set(accessKeyId, caller);
  }

  callerOf(accessKeyId: string): string {
    return this.callers.get(accessKeyId) ?? 'unknown';
  }

  /** Calls of one function. */
  of(caller: string): RecordedCall[] {
    return this.calls.filter((call) => call.caller === caller);
  }
}

export interface RecordingProxy {
  endpoint: string;
  stop(): Promise<void>;
}

function authorizationsFor(
  service: AwsService,
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
  presigned: boolean,
  scope: AccountScope,
) {
  switch (service) {
    case 'dynamodb':
      return dynamoAuthorizations(headers, body, scope);
    case 's3':
      return s3Authorizations(method, url, headers, presigned);
    case 'secretsmanager':
      return secretsAuthorizations(headers, body, scope);
    case 'events':
      return eventsAuthorizations(headers, body, scope);
  }
}

/**
 * Forwards every request unchanged (Host included, so the store checks the caller's own signature) and
 * records it once the store has answered.
 */
export async function startRecordingProxy(options: {
  service: AwsService;
  target: string;
  recorder: CallRecorder;
  scope: AccountScope;
}): Promise<RecordingProxy> {
  const { service, recorder, scope } = options;
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://proxy.local');
      const forward = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            const { accessKeyId, presigned } = accessKeyOf(req.headers, url);
            try {
              const { operation, authorizations } = authorizationsFor(
                service,
                method,
                url,
                req.headers,
                body,
                presigned,
                scope,
              );
              recorder.calls.push({
                caller: recorder.callerOf(accessKeyId),
                accessKeyId,
                service,
                operation,
                authorizations,
                presigned,
                status: answer.statusCode ?? 0,
              });
            } catch (error) {
              recorder.unclassified.push({
                service,
                request: `${method} ${url.pathname}`,
                error: String(error),
              });
            }
          });
        },
      );
      forward.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await listen(server, 0, '127.0.0.1');
  return {
    endpoint: serverUrl(server),
    stop: async () => {
      await closeServer(server);
      agent.destroy();
    },
  };
}
