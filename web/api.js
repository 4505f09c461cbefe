// Talks to the archiver's HTTP API on this origin (with the optional bearer token) and reads archived files.

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

/** GET a JSON answer of the API; a 4xx/5xx becomes an ApiError with the API's own message. */
export async function getJson(path) {
  const headers = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: 'no-store', credentials: 'same-origin' });
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
  if (!response.ok) {
    const issues = Array.isArray(body?.error?.details?.issues) ? body.error.details.issues : [];
    const explained = issues.map((issue) => `${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
    const message = [body?.error?.message ?? body?.message ?? `HTTP ${response.status}`, ...explained].join(
      '; ',
    );
    const hint =
      response.status === 401 || response.status === 403 ? ' Enter the API token at the top right.' : '';
    throw new ApiError(`${message} (HTTP ${response.status}).${hint}`, response.status, body?.error?.code);
  }
  return body;
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
