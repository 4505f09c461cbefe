// AWS credentials for signing the page's API requests: parsed from pasted CLI output, kept in sessionStorage only.

const STORAGE_KEY = 'submodel-archiver.aws-credentials';

/** Variable names of `aws configure export-credentials --format env` (and the region ones) → fields. */
const ENV_NAMES = {
  AWS_ACCESS_KEY_ID: 'accessKeyId',
  AWS_SECRET_ACCESS_KEY: 'secretAccessKey',
  AWS_SESSION_TOKEN: 'sessionToken',
  AWS_CREDENTIAL_EXPIRATION: 'expiration',
  AWS_REGION: 'region',
  AWS_DEFAULT_REGION: 'region',
};

/** The region of an `{id}.execute-api.{region}.amazonaws.com` host, or '' for any other host. */
export function regionFromHost(host) {
  const match = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?(?::\d+)?$/i.exec(
    String(host ?? ''),
  );
  return match ? match[1].toLowerCase() : '';
}

function unquote(value) {
  const text = value.trim();
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.at(-1) === text[0]) {
    return text.slice(1, -1);
  }
  return text;
}

/**
 * Credentials found in pasted text: the env output of `aws configure export-credentials` (`export X=…`,
 * `--format env-no-export`, `powershell`, `windows-cmd`), or the JSON of `aws sts get-session-token`
 * (`{"Credentials":{…}}`) or of `export-credentials --format process`. Only the fields found are returned.
 */
export function parseCredentialText(text) {
  const source = String(text ?? '').trim();
  if (source.startsWith('{')) {
    let parsed;
    try {
      parsed = JSON.parse(source);
    } catch {
      return {};
    }
    const c = parsed && typeof parsed.Credentials === 'object' ? parsed.Credentials : parsed;
    const found = {};
    const take = (field, value) => {
      if (typeof value === 'string' && value.trim()) found[field] = value.trim();
    };
    take('accessKeyId', c?.AccessKeyId);
    take('secretAccessKey', c?.SecretAccessKey);
    take('sessionToken', c?.SessionToken);
    take('expiration', c?.Expiration);
    return found;
  }
  const found = {};
  for (const line of source.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+|set\s+|\$env:)?(AWS_[A-Z_]+)\s*=(.*)$/i.exec(line);
    const field = match && ENV_NAMES[match[1].toUpperCase()];
    const value = match ? unquote(match[2]) : '';
    if (field && value) found[field] = value;
  }
  return found;
}

/** Why these credentials cannot sign, or '' when they can. */
export function credentialProblem(credentials) {
  if (!credentials?.accessKeyId) return 'The access key id is missing.';
  if (!/^[A-Z0-9]{16,128}$/.test(credentials.accessKeyId)) {
    return 'The access key id looks wrong (AKIA… or ASIA…, letters and digits).';
  }
  if (!credentials.secretAccessKey) return 'The secret access key is missing.';
  if (credentials.accessKeyId.startsWith('ASIA') && !credentials.sessionToken) {
    return 'Temporary credentials (ASIA…) need their session token.';
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(credentials.region ?? '')) return 'Enter the region, e.g. eu-west-1.';
  return '';
}

/** True once the credentials' expiration (if they have one) has passed. */
export function isExpired(credentials, now = Date.now()) {
  const at = Date.parse(credentials?.expiration ?? '');
  return Number.isFinite(at) && at <= now;
}

/** `ASIA…WXYZ`: enough of the access key id to recognise it, none of the secret. */
export function maskKeyId(accessKeyId) {
  const id = String(accessKeyId ?? '');
  return id.length > 8 ? `${id.slice(0, 4)}…${id.slice(-4)}` : id;
}

/** The stored credentials of this tab, or undefined. sessionStorage: gone when the tab closes. */
export function loadCredentials() {
  try {
    const text = sessionStorage.getItem(STORAGE_KEY);
    const value = text ? JSON.parse(text) : undefined;
    return value && typeof value.accessKeyId === 'string' && typeof value.secretAccessKey === 'string'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the credentials for this tab only (sessionStorage, never localStorage). */
export function saveCredentials(credentials) {
  const { accessKeyId, secretAccessKey, sessionToken, region, expiration } = credentials;
  const kept = { accessKeyId, secretAccessKey, region };
  if (sessionToken) kept.sessionToken = sessionToken;
  if (expiration) kept.expiration = expiration;
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(kept));
}

/** Forgets the stored credentials. */
export function clearCredentials() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled: nothing was kept.
  }
}
