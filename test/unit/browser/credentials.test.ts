// The page's AWS credentials: pasted CLI output, the region of an execute-api host, checks, and sessionStorage only.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  clearCredentials,
  credentialProblem,
  isExpired,
  loadCredentials,
  maskKeyId,
  parseCredentialText,
  regionFromHost,
  saveCredentials,
} from '../../../web/credentials.js';

const KEY_ID = 'ASIAQEXAMPLE7EXAMPLE';
const SECRET = 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLE//+token==';

describe('pasted credentials', () => {
  it('reads `aws configure export-credentials --format env`', () => {
    const text = [
      `export AWS_ACCESS_KEY_ID=${KEY_ID}`,
      `export AWS_SECRET_ACCESS_KEY=${SECRET}`,
      `export AWS_SESSION_TOKEN=${TOKEN}`,
      'export AWS_CREDENTIAL_EXPIRATION=2026-11-29T20:11:02+00:00',
    ].join('\n');
    expect(parseCredentialText(text)).toEqual({
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: '2026-11-29T20:11:02+00:00',
    });
  });

  it('reads the env-no-export, powershell and windows-cmd formats, quotes and the region', () => {
    expect(parseCredentialText(`AWS_ACCESS_KEY_ID=${KEY_ID}\r\nAWS_REGION=eu-west-1`)).toEqual({
      accessKeyId: KEY_ID,
      region: 'eu-west-1',
    });
    expect(parseCredentialText(`$Env:AWS_SECRET_ACCESS_KEY="${SECRET}"`)).toEqual({
      secretAccessKey: SECRET,
    });
    expect(parseCredentialText(`set AWS_SESSION_TOKEN=${TOKEN}`)).toEqual({ sessionToken: TOKEN });
    expect(parseCredentialText(`export AWS_SECRET_ACCESS_KEY='${SECRET}'`)).toEqual({
      secretAccessKey: SECRET,
    });
  });

  it('reads the JSON of `aws sts get-session-token` and of `export-credentials --format process`', () => {
    const sts = {
      Credentials: {
        AccessKeyId: KEY_ID,
        SecretAccessKey: SECRET,
        SessionToken: TOKEN,
        Expiration: '2026-11-30T07:11:02+00:00',
      },
    };
    expect(parseCredentialText(JSON.stringify(sts, null, 2))).toEqual({
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: '2026-11-30T07:11:02+00:00',
    });
    const process = { Version: 1, AccessKeyId: KEY_ID, SecretAccessKey: SECRET };
    expect(parseCredentialText(JSON.stringify(process))).toEqual({
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
    });
  });

  it('finds nothing in other text, broken JSON or unrelated variables', () => {
    expect(parseCredentialText('hello')).toEqual({});
    expect(parseCredentialText('{"Credentials":')).toEqual({});
    expect(parseCredentialText('export AWS_PROFILE=prod\nexport HOME=/root')).toEqual({});
    expect(parseCredentialText(undefined)).toEqual({});
  });
});

describe('checks', () => {
  const good = { accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN, region: 'eu-west-1' };

  it('takes the region from an execute-api host only', () => {
    expect(regionFromHost('a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionFromHost('a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com:443')).toBe('us-gov-west-1');
    expect(regionFromHost('127.0.0.1:8787')).toBe('');
    expect(regionFromHost('archiver.example.com')).toBe('');
    expect(regionFromHost('x.execute-api.eu-west-1.amazonaws.com.evil.example')).toBe('');
  });

  it('says what is missing before anything is signed', () => {
    expect(credentialProblem(good)).toBe('');
    expect(credentialProblem({ ...good, sessionToken: undefined, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })).toBe(
      '',
    );
    expect(credentialProblem({ ...good, accessKeyId: '' })).toMatch(/access key id is missing/);
    expect(credentialProblem({ ...good, accessKeyId: 'not a key' })).toMatch(/looks wrong/);
    expect(credentialProblem({ ...good, secretAccessKey: '' })).toMatch(/secret/);
    expect(credentialProblem({ ...good, sessionToken: '' })).toMatch(/session token/);
    expect(credentialProblem({ ...good, region: '' })).toMatch(/region/);
    expect(credentialProblem(undefined)).not.toBe('');
  });

  it('knows expired credentials and shows only the ends of a key id', () => {
    const now = Date.parse('2026-11-29T20:00:00Z');
    expect(isExpired({ ...good, expiration: '2026-11-29T19:59:59Z' }, now)).toBe(true);
    expect(isExpired({ ...good, expiration: '2026-11-29T20:11:02+00:00' }, now)).toBe(false);
    expect(isExpired(good, now)).toBe(false);
    expect(maskKeyId(KEY_ID)).toBe('ASIA…MPLE');
  });
});

describe('storage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  function stubStorage(): { session: Map<string, string>; local: Map<string, string> } {
    const stores = { session: new Map<string, string>(), local: new Map<string, string>() };
    const storage = (map: Map<string, string>) => ({
      getItem: (key: string) => map.get(key) ?? null,
      setItem: (key: string, value: string) => map.set(key, value),
      removeItem: (key: string) => map.delete(key),
    });
    vi.stubGlobal('sessionStorage', storage(stores.session));
    vi.stubGlobal('localStorage', storage(stores.local));
    return stores;
  }

  it('keeps credentials in sessionStorage, never in localStorage, until cleared', () => {
    const stores = stubStorage();
    expect(loadCredentials()).toBeUndefined();
    saveCredentials({
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      region: 'eu-west-1',
    });
    expect(loadCredentials()).toEqual({
      accessKeyId: KEY_ID,
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      region: 'eu-west-1',
    });
    expect(stores.local.size).toBe(0);
    clearCredentials();
    expect(loadCredentials()).toBeUndefined();
    expect(stores.session.size).toBe(0);
  });

  it('ignores unreadable stored values and missing storage', () => {
    const stores = stubStorage();
    stores.session.set('submodel-archiver.aws-credentials', '{not json');
    expect(loadCredentials()).toBeUndefined();
    vi.unstubAllGlobals();
    vi.stubGlobal('sessionStorage', undefined);
    expect(loadCredentials()).toBeUndefined();
    expect(() => clearCredentials()).not.toThrow();
  });
});
