// Talks to the archiver's HTTP API on this origin (SigV4-signed, or with the optional bearer token) and reads archived files.
import { loadCredentials, regionFromHost } from './credentials.js';
import { signRequest } from './sigv4.js';

const TOKEN_KEY = 'submodel-archiver.token';

/** The saved API token, or '' (local mode's ARCHIVER_TOKEN; none by default). */
export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Saves the token; an empty one is forgotten. */
export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lasts until the page is closed.
  }
}

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** Milliseconds to add to this machine's clock when signing, learnt from an API answer refusing a skewed time. */
let clockOffsetMs = 0;

/** SigV4 refuses a request dated more than 5 minutes away from AWS's time. */
const SKEW_MESSAGE = /Signature expired|Signature not yet current|RequestTimeTooSkewed/i;

/**
 * The URL and headers of one API request: signed with the tab's AWS credentials (service execute-api) when
 * there are some, else with the bearer token when there is one. Credentials leave the page only as a signature.
 */
async function authorize(path, headers) {
  const credentials = loadCredentials();
  if (credentials) {
    // As the browser will send it: dot segments resolved, anything unsafe percent-encoded.
    const target = new URL(path, location.origin);
    let signed;
    try {
      signed = await signRequest({
        method: 'GET',
        host: location.host,
        path: target.pathname + target.search,
        credentials,
        region: credentials.region || regionFromHost(location.host),
        service: 'execute-api',
        date: new Date(Date.now() + clockOffsetMs),
      });
    } catch (error) {
      throw new ApiError(`The request could not be signed: ${error.message}`, 0, 'SIGNING');
    }
    return { url: signed.path, headers: { ...headers, ...signed.headers } };
  }
  const token = getToken();
  return { url: path, headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers };
}

/** GET a JSON answer of the API; a 4xx/5xx becomes an ApiError with the API's own message. */
export async function getJson(path) {
  let { response, body } = await send(path);
  // A clock more than 5 minutes off: sign again once with the API's own time (its Date header).
  if (response.status === 403 && SKEW_MESSAGE.test(body?.message ?? '')) {
    const serverTime = Date.parse(response.headers.get('date') ?? '');
    if (Number.isFinite(serverTime)) {
      clockOffsetMs = serverTime - Date.now();
      ({ response, body } = await send(path));
    }
  }
  if (!response.ok) {
    const issues = Array.isArray(body?.error?.details?.issues) ? body.error.details.issues : [];
    const explained = issues.map((issue) => `${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    const message = [body?.error?.message ?? body?.message ?? `HTTP ${response.status}`, ...explained].join(
      '; ',
    );
    throw new ApiError(
      `${message} (HTTP ${response.status}).${authHint(response.status)}`,
      response.status,
      body?.error?.code,
    );
  }
  return body;
}

async function send(path) {
  const { url, headers } = await authorize(path, { accept: 'application/json' });
  let response;
  try {
    response = await fetch(url, { headers, cache: 'no-store', credentials: 'same-origin' });
  } catch (error) {
    throw new ApiError(`The archiver did not answer (${error.message}).`, 0, 'NETWORK');
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { response, body };
}

/** What to do about a refused request, by how the page authenticates. */
function authHint(status) {
  if (status !== 401 && status !== 403) return '';
  if (loadCredentials()) {
    return (
      ' Check the AWS credentials at the top right: unexpired, the right region, and allowed to call' +
      ' execute-api:Invoke on this API (the ClientPolicyArn policy).'
    );
  }
  if (regionFromHost(location.host)) return ' Enter AWS credentials at the top right.';
  return ' Enter the API token (or AWS credentials) at the top right.';
}

/**
 * Reads at most `limit` bytes of an archived file through its presigned URL, which carries its own
 * signature: no token, no cookies, no referrer. `truncated` tells whether there was more.
 */
export async function readArchived(url, limit) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch (error) {
    throw new ApiError(
      `The archive could not be read from this page (${error.message}); is cross-origin reading allowed on the bucket?`,
      0,
      'NETWORK',
    );
  }
  if (!response.ok) throw new ApiError(`The archive answered HTTP ${response.status}.`, response.status);
  const decoder = new TextDecoder();
  if (!response.body) {
    const text = await response.text();
    return { text: text.slice(0, limit), truncated: text.length > limit };
  }
  const reader = response.body.getReader();
  let text = '';
  let bytes = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = limit - bytes;
    if (value.length > room) {
      text += decoder.decode(value.subarray(0, room), { stream: true });
      truncated = true;
      await reader.cancel();
      break;
    }
    text += decoder.decode(value, { stream: true });
    bytes += value.length;
  }
  // A cut inside a multi-byte character ends in a replacement character; only a preview is cut.
  text += decoder.decode();
  return { text, truncated };
}
