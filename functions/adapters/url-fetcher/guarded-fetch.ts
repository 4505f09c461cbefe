// GET under an SSRF guard: https only, every resolved address checked and pinned, redirects re-checked, capped.
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { classifyAddress } from './address-class.ts';
import { UrlFetchFailedError, UrlRefusedError } from './errors.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a hostname resolves to (tests inject their own answers here). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardedFetchOptions {
  /** The body is abandoned as soon as it passes this many bytes. */
  maxBytes: number;
  /** For the whole fetch: resolution, every redirect hop and the body. */
  timeoutMs: number;
  /** Default 3. */
  maxRedirects?: number;
  /**
   * Local mode only: `host:port` entries reachable over plain http and at any address (the emulator's
   * `127.0.0.1:PORT`). Empty in AWS.
   */
  allowHosts?: readonly string[];
  /** Default: the system resolver (getaddrinfo), all addresses. */
  resolve?: Resolver;
  /** Checked on the response headers, before any body byte is read. */
  acceptContentType?: (declared: string | undefined) => boolean;
}

export interface FetchedResource {
  body: Buffer;
  contentType: string | undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_REDIRECTS = 3;

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** `host:port` as the allow-list spells it, the scheme's default port filled in. */
export function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new UrlRefusedError('not a valid URL');
  }
}

interface Target {
  url: URL;
  /** The one address the connection may go to: checked here, handed to the socket by `lookup`. */
  pinned: ResolvedAddress;
}

/** Applies the policy to one hop: scheme, credentials, then every address the host resolves to. */
async function checkTarget(url: URL, options: GuardedFetchOptions): Promise<Target> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UrlRefusedError(`scheme ${url.protocol} is not allowed`);
  if (url.username || url.password) throw new UrlRefusedError('URLs carrying credentials are refused');
  const allowListed = options.allowHosts?.includes(hostKey(url)) ?? false;
  if (url.protocol !== 'https:' && !allowListed)
    throw new UrlRefusedError(`plain http to ${url.host} is refused: https only`);

  // URL parsing already turned 0x7f.1 or 2130706433 into 127.0.0.1; IP literals are never resolved.
  const literal = classifyAddress(url.hostname);
  const addresses: ResolvedAddress[] = literal
    ? [{ address: url.hostname.replace(/^\[|\]$/g, ''), family: literal.family }]
    : await resolveHost(url.hostname, options.resolve ?? systemResolver);
  const first = addresses[0];
  if (!first) throw new UrlFetchFailedError(`${url.hostname} has no address`);
  // Every answer is judged, not just the first: a resolver may rotate, and one private answer is enough
  // to show the name points inside.
  for (const { address } of addresses) {
    const kind = classifyAddress(address);
    if (!kind) throw new UrlRefusedError(`${url.hostname} resolved to ${address}, not an IP address`);
    if (!kind.allowed && !allowListed)
      throw new UrlRefusedError(`${url.host} resolves to ${address} (${kind.range})`);
  }
  return { url, pinned: first };
}

async function resolveHost(hostname: string, resolve: Resolver): Promise<ResolvedAddress[]> {
  try {
    return await resolve(hostname);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UrlFetchFailedError(`could not resolve ${hostname} (${code})`);
  }
}

function send(target: Target, signal: AbortSignal): Promise<IncomingMessage> {
  const { url, pinned } = target;
  // The socket gets exactly the address checked above: resolving again here would reopen the DNS-rebinding
  // gap (a name that answers public to the check and private to the connect).
  const lookup: LookupFunction = (hostname, opts, callback) => {
    if (hostname !== url.hostname) {
      callback(new Error(`unexpected lookup of ${hostname}`), '', 0);
      return;
    }
    if (opts.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        // No pooled sockets: a kept-alive connection would skip this hop's checks.
        agent: false,
        lookup,
        signal,
        headers: { accept: 'image/*', 'user-agent': 'submodel-archiver/artifact-fetch' },
      },
      resolve,
    );
    req.on('error', (err) =>
      reject(signal.aborted ? err : new UrlFetchFailedError(`request to ${url.host} failed: ${codeOf(err)}`)),
    );
    req.end();
  });
}

const codeOf = (err: Error) => (err as NodeJS.ErrnoException).code ?? err.message.slice(0, 100);

/** Reads the body, abandoning the connection the moment it passes `maxBytes`. */
function readCapped(res: IncomingMessage, maxBytes: number, host: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    return Promise.reject(new UrlRefusedError(`${host} declares ${declared} bytes, over ${maxBytes}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        res.destroy();
        reject(new UrlRefusedError(`body from ${host} is over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks, size)));
    res.on('error', (err) => reject(new UrlFetchFailedError(`reading from ${host} failed: ${codeOf(err)}`)));
    res.on('close', () => {
      if (!res.complete) reject(new UrlFetchFailedError(`${host} closed the connection mid-body`));
    });
  });
}

async function fetchHops(
  rawUrl: string,
  options: GuardedFetchOptions,
  signal: AbortSignal,
): Promise<FetchedResource> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = parseUrl(rawUrl);
  for (let hop = 0; ; hop++) {
    const target = await checkTarget(url, options);
    const res = await send(target, signal);
    const status = res.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      res.destroy();
      const location = res.headers.location;
      if (!location) throw new UrlFetchFailedError(`${status} from ${url.host} without a Location`);
      if (hop >= maxRedirects) throw new UrlRefusedError(`more than ${maxRedirects} redirects`);
      // Each hop goes through checkTarget again: a public URL may redirect inside.
      url = parseUrl(location, url);
      continue;
    }
    if (status !== 200) {
      res.destroy();
      throw new UrlFetchFailedError(`${url.host} answered ${status}`);
    }
    const contentType = res.headers['content-type'];
    if (options.acceptContentType && !options.acceptContentType(contentType)) {
      res.destroy();
      throw new UrlRefusedError(`${url.host} sent ${String(contentType).slice(0, 100)}`);
    }
    return { body: await readCapped(res, options.maxBytes, url.host), contentType };
  }
}

/**
 * Fetches `rawUrl` under the SSRF guard. Throws UrlRefusedError when the policy forbids the URL, an address,
 * a redirect, the type or the size; UrlFetchFailedError on timeouts, network errors and non-200 answers.
 * @example await guardedFetch('https://cdn.example/out.png', { maxBytes: 50 << 20, timeoutMs: 10_000 })
 */
export async function guardedFetch(rawUrl: string, options: GuardedFetchOptions): Promise<FetchedResource> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const work = fetchHops(rawUrl, options, controller.signal);
  try {
    // A DNS lookup cannot be aborted, so the deadline races the work instead of waiting on it.
    return await new Promise<FetchedResource>((resolve, reject) => {
      controller.signal.addEventListener(
        'abort',
        () => reject(new UrlFetchFailedError(`timed out after ${options.timeoutMs} ms`)),
        { once: true },
      );
      work.then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
  }
}
