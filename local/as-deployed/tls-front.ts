// An HTTPS front for the emulator: the stack config accepts only https:// endpoints, so the bundles call it over TLS.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import { closeServer, listen } from '../stores/net.ts';

/** A self-signed certificate for 127.0.0.1 and localhost, for loopback tests only (child processes trust it). */
export const LOOPBACK_CERT_FILE = fileURLToPath(new URL('./tls/loopback-cert.pem', import.meta.url));
const LOOPBACK_KEY_FILE = fileURLToPath(new URL('./tls/loopback-key.pem', import.meta.url));

export interface TlsFront {
  /** https://127.0.0.1:PORT */
  url: string;
  stop(): Promise<void>;
}

/** Terminates TLS on 127.0.0.1 (free port) and forwards each request to `target` as it came. */
export async function startTlsFront(target: string): Promise<TlsFront> {
  const to = new URL(target);
  const server = createServer(
    { cert: readFileSync(LOOPBACK_CERT_FILE), key: readFileSync(LOOPBACK_KEY_FILE) },
    (req, res) => {
      const forward = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(forward);
    },
  );
  await listen(server as unknown as import('node:http').Server, 0, '127.0.0.1');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TLS front is not listening');
  return {
    url: `https://127.0.0.1:${address.port}`,
    stop: () => closeServer(server as unknown as import('node:http').Server),
  };
}
