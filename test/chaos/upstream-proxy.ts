// A TCP relay in front of the emulator's API: taking it down makes the upstream unreachable (ECONNREFUSED).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface UpstreamProxy {
  /** Where the archiver reaches the upstream: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly down: boolean;
  /** Stops listening and cuts every open connection: new calls are refused, calls in flight break. */
  takeDown(): Promise<void>;
  /** Listens again on the same port. */
  bringUp(): Promise<void>;
  stop(): Promise<void>;
}

export async function startUpstreamProxy(targetPort: number, host = '127.0.0.1'): Promise<UpstreamProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const relay = (client: Socket) => {
    const upstream = connect(targetPort, host);
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer(relay);
      next.once('error', reject);
      next.listen(port, host, () => {
        next.off('error', reject);
        const address = next.address();
        if (address && typeof address !== 'string') port = address.port;
        server = next;
        resolve();
      });
    });

  const close = async () => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    url: `http://${host}:${port}`,
    get down() {
      return server === undefined;
    },
    takeDown: close,
    bringUp: async () => {
      if (!server) await listen();
    },
    stop: close,
  };
}
