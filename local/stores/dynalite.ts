// dynalite in-process: DynamoDB's wire protocol over LevelDB (a data folder) or memory.
import { mkdir } from 'node:fs/promises';
import dynalite from 'dynalite';
import type { AwsCredentials } from '../../functions/adapters/aws-clients.ts';
import { closeServer, listen, type RunningStore, serverUrl } from './net.ts';
import { guardWithSigV4 } from './sigv4-guard.ts';

export interface DynaliteOptions {
  /** LevelDB folder; in-memory when absent. */
  path?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Time a new table stays CREATING. Short by default: start-up waits for ACTIVE. */
  createTableMs?: number;
  /** When given, every request must be SigV4-signed with this pair (dynalite itself only checks the header is there). */
  credentials?: AwsCredentials;
  /** Further pairs accepted (see GuardOptions.trusted). */
  trusted?: ReadonlyMap<string, AwsCredentials>;
}

export async function startDynalite(options: DynaliteOptions = {}): Promise<RunningStore> {
  const { path, host = '127.0.0.1', port = 0, createTableMs = 50, credentials, trusted } = options;
  if (path !== undefined) await mkdir(path, { recursive: true });
  const server = dynalite({ ...(path !== undefined && { path }), createTableMs, deleteTableMs: 50 });
  if (credentials !== undefined)
    guardWithSigV4(server, { credentials, service: 'dynamodb', ...(trusted && { trusted }) });
  await listen(server, port, host);
  return {
    endpoint: serverUrl(server),
    // dynalite's close() also closes LevelDB, releasing the folder's LOCK for a restart in the same process.
    stop: () => closeServer(server),
  };
}
