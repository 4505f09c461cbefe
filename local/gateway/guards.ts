// What local mode checks before a request reaches a handler: a loopback Host, a same-site Origin, a JSON body.

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The host name of a Host header or URL authority, lower-cased, without port or IPv6 brackets. */
function hostName(authority: string): string {
  const text = authority.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(1, text.indexOf(']'));
  return text.split(':')[0] ?? '';
}

function nameAllowed(name: string, allowed: readonly string[]): boolean {
  if (allowed.includes('*')) return true;
  return LOOPBACK.has(name) || name.endsWith('.localhost') || allowed.some((a) => a.toLowerCase() === name);
}

/** DNS rebinding: a page on evil.example that resolves to 127.0.0.1 still sends `Host: evil.example`. */
export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined || host === '') return false;
  return nameAllowed(hostName(host), allowed);
}

/** Browsers send Origin on every cross-origin POST (forms included); `null` comes from sandboxed or file pages. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  try {
    return nameAllowed(hostName(new URL(origin).host), allowed);
  } catch {
    return false;
  }
}

/** application/json or any +json type, parameters ignored. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}
