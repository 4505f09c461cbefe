// The emulator in a child process of its own, so the upstream's work is not counted as the sweepers' CPU.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions, EmulatorStats, EndpointOptions } from '../../local/emulator/index.ts';

/** What the parent may ask of the child's emulator. */
export type EmulatorCall =
  | { op: 'configure'; endpointId: string; options: EndpointOptions }
  | { op: 'stats' }
  | { op: 'reset' }
  | { op: 'cpu' }
  | { op: 'stop' };

export interface EmulatorReady {
  type: 'ready';
  url: string;
  apiKey: string;
  /** `baseUrlFor('')` as the emulator builds it: the endpoint id (URI-encoded) goes after it. */
  endpointBase: string;
}

export interface EmulatorAnswer {
  id: number;
  result?: unknown;
  error?: string;
}

/** The emulator of another process: what benchmarks need of it, every call a round trip over IPC. */
export interface EmulatorProcess {
  readonly url: string;
  readonly apiKey: string;
  baseUrlFor(endpointId: string): string;
  configureEndpoint(endpointId: string, options: EndpointOptions): Promise<void>;
  stats(): Promise<EmulatorStats>;
  resetStats(): Promise<void>;
  /** CPU time (user + system, ms) the emulator's process has used so far. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));

/** Starts the emulator with `options` in a child; the options travel by structured clone (Infinity survives). */
export async function startEmulatorProcess(options: EmulatorOptions): Promise<EmulatorProcess> {
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<EmulatorReady>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`emulator child exited with ${code}`)));
    child.once('message', (message: EmulatorReady) => resolve(message));
    child.send(options);
  });
  child.removeAllListeners('exit');
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (answer: EmulatorAnswer) => {
    const waiting = pending.get(answer.id);
    pending.delete(answer.id);
    if (answer.error !== undefined) waiting?.reject(new Error(answer.error));
    else waiting?.resolve(answer.result);
  });
  let nextId = 0;
  const call = <T>(request: EmulatorCall) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, call: request });
    });
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    baseUrlFor: (endpointId) => `${ready.endpointBase}${encodeURIComponent(endpointId)}`,
    configureEndpoint: (endpointId, endpointOptions) =>
      call({ op: 'configure', endpointId, options: endpointOptions }),
    stats: () => call<EmulatorStats>({ op: 'stats' }),
    resetStats: () => call({ op: 'reset' }),
    cpuMs: () => call<number>({ op: 'cpu' }),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ op: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}
