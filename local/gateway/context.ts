// A Lambda-like invocation context: ids, names and a getRemainingTimeInMillis that counts down a timeout.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  functionName: string;
  /** The function's configured timeout; getRemainingTimeInMillis counts down from it. */
  timeoutMs: number;
  /** Default 1024. */
  memoryLimitMB?: number;
  /** Default 'us-east-1'. */
  region?: string;
  /** Default '000000000000'. */
  accountId?: string;
  /** Default a fresh UUID, like Lambda's request ids. */
  awsRequestId?: string;
  /** When the invocation started (ms since epoch); default now. */
  startedAt?: number;
}

const unsupported = (name: string) => () => {
  // The callback-era methods are gone from the Node 22+ runtimes the project deploys to.
  throw new Error(`context.${name}() is not supported: return or throw from the handler`);
};

export function createLambdaContext(options: LambdaContextOptions): Context {
  const {
    functionName,
    timeoutMs,
    memoryLimitMB = 1024,
    region = 'us-east-1',
    accountId = '000000000000',
    awsRequestId = randomUUID(),
    startedAt = Date.now(),
  } = options;
  const day = new Date(startedAt).toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: String(memoryLimitMB),
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, startedAt + timeoutMs - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
