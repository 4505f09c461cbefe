// AWS Signature Version 4 in the browser (WebCrypto HMAC-SHA256 and SHA-256): signs the page's requests to the API.

const ALGORITHM = 'AWS4-HMAC-SHA256';
const encoder = new TextEncoder();

/** SHA-256 of the empty body, the payload hash of every GET. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function subtle() {
  const api = globalThis.crypto?.subtle;
  if (!api)
    throw new Error('Signing needs WebCrypto, which browsers offer on https:// and localhost pages only.');
  return api;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

function bytes(data) {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/** Lowercase hex SHA-256 of a string or bytes. */
export async function sha256Hex(data) {
  return hex(await subtle().digest('SHA-256', bytes(data)));
}

async function hmac(key, data) {
  const cryptoKey = await subtle().importKey('raw', bytes(key), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return new Uint8Array(await subtle().sign('HMAC', cryptoKey, bytes(data)));
}

/** RFC 3986 encoding: everything but `A-Za-z0-9-._~` as %XX (uppercase), as SigV4 wants. */
export function encodeRfc3986(text) {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The canonical URI of a path as sent (already URI-encoded): dot segments and empty segments removed, then
 * every segment encoded once more. execute-api, like every service but S3, signs the sent path encoded
 * again (what the AWS SDKs and botocore do), so `%20` in the path is `%2520` here.
 */
export function canonicalPath(path) {
  const segments = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(encodeRfc3986).join('/')}${trailing}`;
}

/**
 * The canonical query string: each name and value decoded (`+` is a space, as URLSearchParams writes it),
 * encoded per RFC 3986, pairs sorted by name, then value. Send this exact string, and what is signed is what
 * the API reads, however it decodes.
 */
export function canonicalQuery(query) {
  const text = query.startsWith('?') ? query.slice(1) : query;
  if (text === '') return '';
  const decode = (part) => decodeURIComponent(part.replace(/\+/g, ' '));
  const pairs = text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const name = at === -1 ? pair : pair.slice(0, at);
      const value = at === -1 ? '' : pair.slice(at + 1);
      return [encodeRfc3986(decode(name)), encodeRfc3986(decode(value))];
    });
  pairs.sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** `20150830T123600Z`: the x-amz-date of a time. */
export function amzDate(date) {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * Signs one request for `service` in `region`. `path` is the path as sent, with its query; the answer's
 * `path` is the one to send (the query in canonical form) and `headers` the ones to add: x-amz-date,
 * x-amz-security-token (temporary credentials) and authorization. Signed headers: host, x-amz-date and
 * the token; nothing else the browser adds is covered.
 */
export async function signRequest({
  method,
  host,
  path,
  body = '',
  credentials,
  region,
  service,
  date = new Date(),
}) {
  if (!credentials?.accessKeyId || !credentials.secretAccessKey)
    throw new Error('No AWS credentials to sign with.');
  if (!region) throw new Error('No AWS region to sign for.');
  const at = path.indexOf('?');
  const pathname = at === -1 ? path : path.slice(0, at);
  const query = canonicalQuery(at === -1 ? '' : path.slice(at + 1));
  const longDate = amzDate(date);
  const shortDate = longDate.slice(0, 8);

  const signed = { host: host.trim(), 'x-amz-date': longDate };
  if (credentials.sessionToken) signed['x-amz-security-token'] = credentials.sessionToken.trim();
  const names = Object.keys(signed).sort();
  const signedHeaders = names.join(';');
  const payloadHash = body === '' ? EMPTY_SHA256 : await sha256Hex(body);
  const canonicalRequest = [
    method.toUpperCase(),
    canonicalPath(pathname),
    query,
    ...names.map((name) => `${name}:${signed[name].replace(/\s+/g, ' ')}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');

  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, longDate, scope, await sha256Hex(canonicalRequest)].join('\n');
  let key = await hmac(`AWS4${credentials.secretAccessKey}`, shortDate);
  for (const part of [region, service, 'aws4_request']) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));

  const headers = { 'x-amz-date': longDate };
  if (signed['x-amz-security-token']) headers['x-amz-security-token'] = signed['x-amz-security-token'];
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return {
    path: query ? `${pathname}?${query}` : pathname,
    headers,
    canonicalRequest,
    stringToSign,
    signature,
  };
}
