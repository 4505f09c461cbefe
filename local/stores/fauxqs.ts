// fauxqs in-process: SQS's JSON 1.0 wire protocol (the current SDK's) in memory, guarded by SigV4 like the others.
import { buildApp } from 'fauxqs';
import type { AwsCredentials } from '../../functions/adapters/aws-clients.ts';
import type { RunningStore } from './net.ts';
import { guardWithSigV4 } from './sigv4-guard.ts';

export interface FauxqsOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When given, every request must be SigV4-signed with this pair (fauxqs itself checks no signature). */
  credentials?: AwsCredentials;
  /** Further pairs accepted (see GuardOptions.trusted). */
  trusted?: ReadonlyMap<string, AwsCredentials>;
}

/**
 * Built from fauxqs's app rather than its `startFauxqs`, which listens on every interface: local stores bind
 * the loopback only. Queue URLs name the request's own host, so they work behind any port.
 */
export async function startFauxqs(options: FauxqsOptions = {}): Promise<RunningStore> {
  const { host = '127.0.0.1', port = 0, credentials, trusted } = options;
  const app = buildApp({ logger: false });
  await app.ready();
  if (credentials !== undefined)
    guardWithSigV4(app.server, { credentials, service: 'sqs', ...(trusted && { trusted }) });
  const address = await app.listen({ port, host });
  return { endpoint: address, stop: () => app.close() };
}
