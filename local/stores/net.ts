// Small socket helpers for the embedded servers: free ports, URLs and closing without hanging on keep-alive.
import type { Server } from 'node:http';
import { createServer } from 'node:net';

/** A running embedded store: its base URL and how to stop it. */
export interface RunningStore {
  endpoint: string;
  stop(): Promise<void>;
}

/** Base URL of a listening server (bracketing IPv6 hosts). */
export function serverUrl(server: Server): string {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** Asks the OS for a free port (for servers, like a Java child, that cannot be told to pick one themselves). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Listens on host:port (0 = ephemeral) and resolves once bound. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Closes a server: stops accepting, drops idle keep-alive sockets at once (SDK clients keep them open), and
 * forces the rest after `graceMs` so a stuck client cannot hold shutdown forever.
 */
export function closeServer(server: Server, graceMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
