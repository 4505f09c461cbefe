// Start-up failures of `npm start` in words a newcomer can act on: which port, which store, what to change.

export interface StartupContext {
  port: number;
  dynamoEndpoint?: string | undefined;
  s3Endpoint?: string | undefined;
}

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Names the store an address belongs to, when the address is one of the configured endpoints. */
function storeAt(text: string, context: StartupContext): string | undefined {
  const match = (endpoint: string | undefined) => {
    if (!endpoint) return false;
    try {
      return text.includes(new URL(endpoint).port || new URL(endpoint).host);
    } catch {
      return false;
    }
  };
  if (match(context.dynamoEndpoint))
    return `DynamoDB at ${context.dynamoEndpoint} (AWS_ENDPOINT_URL_DYNAMODB)`;
  if (match(context.s3Endpoint)) return `S3 at ${context.s3Endpoint} (AWS_ENDPOINT_URL_S3)`;
  return undefined;
}

/** An Error whose message says what went wrong and what to do; unknown failures keep their own message. */
export function startupError(error: unknown, context: StartupContext): Error {
  const code = codeOf(error);
  const message = messageOf(error);
  if (code === 'EADDRINUSE')
    return new Error(
      `port ${context.port} is already in use (another npm start?)\n  stop that process, or choose another port: PORT=${context.port + 1} npm start  (or npm start -- --port ${context.port + 1})`,
    );
  if (code === 'EACCES' && /listen/.test(message))
    return new Error(
      `not allowed to listen on port ${context.port}\n  choose a port above 1023: PORT=8787 npm start`,
    );
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || /ECONNREFUSED|ENOTFOUND/.test(message)) {
    const store = storeAt(message, context);
    if (store)
      return new Error(
        `cannot reach ${store}: is it running?\n  start it, or unset the variable to use the embedded store`,
      );
  }
  return error instanceof Error ? error : new Error(message);
}
