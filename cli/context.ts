// What a command runs with: the process's streams and environment (replaceable in tests), its parsed flags, the API.
import type { Readable, Writable } from 'node:stream';
import { ArchiverApi } from './api/archiver-api.ts';
import { type ParsedValues, stringFlag } from './args.ts';
import { resolveApiUrl, resolveAuth } from './http/auth.ts';
import { ApiClient, type RetryNotice } from './http/client.ts';
import { formatDuration } from './output/format.ts';
import { say } from './output/write.ts';

export type OutStream = Writable & { isTTY?: boolean; columns?: number };

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  stdin: Readable;
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C: commands stop at a safe point and say how to continue. */
  signal: AbortSignal;
  now(): number;
}

export interface CommandContext {
  io: Io;
  values: ParsedValues;
  positionals: string[];
  /** The API client, built on first use so that usage errors are reported before any auth problem. */
  api(): ArchiverApi;
}

export function createContext(io: Io, values: ParsedValues, positionals: string[]): CommandContext {
  let api: ArchiverApi | undefined;
  return {
    io,
    values,
    positionals,
    api() {
      api ??= buildApi(io, values);
      return api;
    },
  };
}

function buildApi(io: Io, values: ParsedValues): ArchiverApi {
  const baseUrl = resolveApiUrl(stringFlag(values, 'api'), io.env);
  const token = stringFlag(values, 'token') ?? io.env.ARCHIVER_TOKEN;
  const region = stringFlag(values, 'region');
  const auth = resolveAuth({
    apiUrl: baseUrl,
    sigv4: values.sigv4 === true,
    env: io.env,
    ...(token !== undefined && { token }),
    ...(region !== undefined && { region }),
  });
  const signer =
    auth.kind === 'sigv4'
      ? async () => {
          // Loaded only for SigV4: the signer and the credential chain are the heaviest imports of the CLI.
          const { createSigV4Signer, defaultCredentialChain } = await import('./http/sigv4.ts');
          return createSigV4Signer({
            region: auth.region,
            service: auth.service,
            credentials: await defaultCredentialChain(),
          });
        }
      : undefined;
  const onRetry = (n: RetryNotice) =>
    say(
      io.stderr,
      `archiver: ${n.method} ${n.path} answered 429${n.code ? ` ${n.code}` : ''}; retrying in ${formatDuration(n.waitMs)} (retry ${n.attempt} of ${n.maxRetries})`,
    );
  return new ArchiverApi(
    new ApiClient({ baseUrl, auth, signal: io.signal, onRetry, ...(signer && { signer }) }),
  );
}
