// The page's two ways to authenticate, top right: the bearer token (local mode) and AWS credentials (SigV4).
import { getToken, setToken } from './api.js';
import {
  clearCredentials,
  credentialProblem,
  isExpired,
  loadCredentials,
  maskKeyId,
  parseCredentialText,
  regionFromHost,
  saveCredentials,
} from './credentials.js';
import { byId } from './dom.js';
import { formatTime } from './format.js';

const FIELDS = {
  accessKeyId: 'aws-access-key-id',
  secretAccessKey: 'aws-secret-access-key',
  sessionToken: 'aws-session-token',
  region: 'aws-region',
};

/** Wires the token form and the AWS credentials panel; either change reloads the page with the new setting. */
export function setUpAuth() {
  const hostRegion = regionFromHost(location.host);
  const stored = loadCredentials();
  setUpToken(stored !== undefined);
  setUpAws(stored, hostRegion);
}

function setUpToken(signing) {
  const tokenInput = byId('token');
  tokenInput.value = getToken();
  if (signing) {
    // One Authorization header: while AWS credentials sign, the token is not sent.
    tokenInput.disabled = true;
    tokenInput.title = 'Not sent while AWS credentials sign the requests';
  }
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    setToken(tokenInput.value.trim());
    // Everything shown so far may have been refused: start over with the new token.
    location.reload();
  });
}

function setUpAws(stored, hostRegion) {
  const panel = byId('aws-auth');
  const message = byId('aws-message');
  const input = (field) => byId(FIELDS[field]);
  let expiration = stored?.expiration;

  input('region').placeholder = hostRegion || 'e.g. eu-west-1';
  if (stored) {
    for (const field of Object.keys(FIELDS)) input(field).value = stored[field] ?? '';
  }
  showState(stored);
  // In AWS the data routes need a signature: offer the panel until there are credentials.
  if (!stored && hostRegion) panel.open = true;

  const paste = byId('aws-paste');
  paste.addEventListener('input', () => {
    const found = parseCredentialText(paste.value);
    const names = Object.keys(found).filter((field) => field !== 'expiration');
    if (names.length === 0) return;
    for (const field of names) input(field).value = found[field];
    expiration = found.expiration;
    // The values now sit in their fields; the pasted text is not kept around.
    paste.value = '';
    message.className = 'status';
    message.textContent = `Filled in: ${names.join(', ')}${expiration ? `; expires ${formatTime(expiration)}` : ''}.`;
  });

  byId('aws-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const credentials = {
      accessKeyId: input('accessKeyId').value.trim(),
      secretAccessKey: input('secretAccessKey').value.trim(),
      sessionToken: input('sessionToken').value.trim(),
      region: input('region').value.trim() || hostRegion,
      expiration,
    };
    const problem = credentialProblem(credentials);
    if (problem) {
      message.className = 'status error';
      message.textContent = problem;
      return;
    }
    try {
      saveCredentials(credentials);
    } catch (error) {
      message.className = 'status error';
      message.textContent = `This browser keeps nothing in sessionStorage (${error.message}).`;
      return;
    }
    location.reload();
  });

  byId('aws-clear').addEventListener('click', () => {
    clearCredentials();
    for (const field of Object.keys(FIELDS)) input(field).value = '';
    location.reload();
  });
}

function showState(stored) {
  const state = byId('aws-state');
  if (!stored) {
    state.textContent = 'off';
    state.className = 'badge badge-muted';
    return;
  }
  const expired = isExpired(stored);
  state.textContent = `${maskKeyId(stored.accessKeyId)} · ${stored.region}${expired ? ' · expired' : ''}`;
  state.className = `badge ${expired ? 'badge-bad' : 'badge-ok'}`;
  state.title = stored.expiration ? `Expires ${formatTime(stored.expiration)}` : 'No expiration known';
}
