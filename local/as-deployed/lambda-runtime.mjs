// A tiny Lambda runtime: imports the bundle from LAMBDA_TASK_ROOT and serves invocations sent over the IPC channel.
// Plain JavaScript on purpose: the bundle runs in a bare `node` with no loader, as it does in Lambda.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? '.';
const [moduleName = 'index', exportName = 'handler'] = (process.env._HANDLER ?? 'index.handler').split('.');

/** Lambda's Node runtime looks for .mjs, then .js, then .cjs. */
function entryFile() {
  for (const extension of ['.mjs', '.js', '.cjs']) {
    const file = join(taskRoot, `${moduleName}${extension}`);
    if (existsSync(file)) return file;
  }
  throw new Error(`Cannot find module '${moduleName}' in ${taskRoot}`);
}

/** An error as Lambda reports it: type, message and stack lines. */
function describe(error) {
  if (error instanceof Error)
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\n') };
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

function context(message) {
  const { deadlineMs, awsRequestId, invokedFunctionArn } = message;
  const env = process.env;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    awsRequestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
  };
}

let handler;
// Init Duration as Lambda reports it: loading the handler module, not the runtime's own start.
const initStarted = performance.now();
try {
  const mod = await import(pathToFileURL(entryFile()).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${moduleName}.${exportName} is not a function`);
} catch (error) {
  process.send?.({ type: 'init-error', error: describe(error) });
  process.exit(1);
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  try {
    const result = await handler(message.event, context(message));
    // Lambda serializes the result as JSON: undefined becomes null.
    process.send?.({ type: 'result', id: message.id, result: JSON.stringify(result ?? null) });
  } catch (error) {
    process.send?.({ type: 'error', id: message.id, error: describe(error) });
  }
});
process.send?.({ type: 'ready', initMs: performance.now() - initStarted });
