// Test helpers: a scripted node:http upstream on 127.0.0.1, fixture bytes, a closed port, a fake clock.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake upstream received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A scripted answer; `destroy` drops the socket without answering, `stallAfterHeaders` never ends the body. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  destroy?: boolean;
  stallAfterHeaders?: boolean;
  hang?: boolean;
}

export interface FakeUpstream {
  origin: string;
  requests: RecordedRequest[];
  /** Queues answers, used in order; when the queue is empty every request gets a 599 "unscripted". */
  reply(...replies: Reply[]): void;
  /** Forgets recorded requests and unused replies. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a fake upstream on an ephemeral port. */
export async function startFakeUpstream(): Promise<FakeUpstream> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(res, queue.shift() ?? { status: 599, body: 'unscripted' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    reply: (...replies) => {
      queue.push(...replies);
    },
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(res: ServerResponse, reply: Reply): void {
  if (reply.destroy) {
    res.socket?.destroy();
    return;
  }
  if (reply.hang) return;
  res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
  if (reply.stallAfterHeaders) {
    res.write('{"id":');
    return;
  }
  res.end(reply.body ?? '');
}

/** The exact bytes of a fixture in test/fixtures/upstream/. */
export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../../fixtures/upstream/${name}`, import.meta.url));
}

/** A port nothing listens on: bound, then released, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A manual clock whose `sleep` waits until the test advances time; methods work detached from it. */
export interface ManualClock {
  /** Every sleep asked for, in order. */
  sleeps: number[];
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Moves time forward, wakes every sleeper whose time has come and lets their callbacks run. */
  advance: (ms: number) => Promise<void>;
  pendingSleeps: () => number;
}

export function manualClock(start = 0): ManualClock {
  let time = start;
  const sleeps: number[] = [];
  const sleepers: { until: number; resolve: () => void }[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => sleepers.push({ until: time + ms, resolve }));
    },
    advance: async (ms) => {
      time += ms;
      for (const sleeper of sleepers.filter((s) => s.until <= time)) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.resolve();
      }
      await flush();
    },
    pendingSleeps: () => sleepers.length,
  };
}

/** Lets every queued promise callback run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
