// The page's SigV4 signer (web/sigv4.js, WebCrypto): AWS's documented test vectors and @smithy/signature-v4 agree.
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { listRequest } from '../../../web/format.js';
import {
  type AwsCredentials,
  amzDate,
  canonicalPath,
  canonicalQuery,
  EMPTY_SHA256,
  sha256Hex,
  signRequest,
} from '../../../web/sigv4.js';

/** The credentials and time of AWS's SigV4 test suite (aws-sig-v4-test-suite). */
const SUITE = {
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  date: new Date('2015-08-30T12:36:00Z'),
  region: 'us-east-1',
  service: 'service',
  host: 'example.amazonaws.com',
};

const API_HOST = 'a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';
const TEMPORARY: AwsCredentials = {
  accessKeyId: 'ASIAQEXAMPLE7EXAMPLE',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token/with+slashes==',
};

/** The Authorization header the AWS SDK's signer computes for the same request (x-amz-content-sha256 off). */
async function smithyAuthorization(
  path: string,
  credentials: AwsCredentials,
  date: Date,
  host = API_HOST,
  region = 'eu-west-1',
): Promise<{ authorization: string; headers: Record<string, string> }> {
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const url = new URL(path, `https://${host}`);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of url.searchParams) {
    const before = query[name];
    query[name] = before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
  }
  const signed = await signer.sign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers: { host },
    }),
    { signingDate: date },
  );
  const headers = signed.headers as Record<string, string>;
  return { authorization: headers.authorization ?? '', headers };
}

describe('AWS SigV4 test suite', () => {
  it('get-vanilla: the documented canonical request, string to sign and signature', async () => {
    const signed = await signRequest({ method: 'GET', path: '/', ...SUITE });
    expect(signed.canonicalRequest).toBe(
      [
        'GET',
        '/',
        '',
        'host:example.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'host;x-amz-date',
        EMPTY_SHA256,
      ].join('\n'),
    );
    expect(signed.stringToSign).toBe(
      [
        'AWS4-HMAC-SHA256',
        '20150830T123600Z',
        '20150830/us-east-1/service/aws4_request',
        'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
      ].join('\n'),
    );
    expect(signed.signature).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    expect(signed.headers).toEqual({
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    });
  });

  it('get-vanilla-query-order-key-case: parameters sorted by name', async () => {
    const signed = await signRequest({ method: 'GET', path: '/?Param2=value2&Param1=value1', ...SUITE });
    expect(signed.canonicalRequest.split('\n')[2]).toBe('Param1=value1&Param2=value2');
    expect(signed.signature).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });

  it('hashes with SHA-256 (the empty body of a GET)', async () => {
    expect(await sha256Hex('')).toBe(EMPTY_SHA256);
    expect(amzDate(SUITE.date)).toBe('20150830T123600Z');
  });
});

describe('execute-api requests, as @smithy/signature-v4 signs them', () => {
  const date = new Date('2026-11-29T19:11:02.367Z');
  const jobs = listRequest({ state: 'FAILED', tag: 'team=vision', endpoint: 'sdxl' }, 'eyJrIjoiYSJ9+/=').path;

  it.each([
    ['a list query with an encoded tag, a cursor and a token', jobs, TEMPORARY],
    [
      'a list query without a session token',
      '/jobs?limit=5&state=ARCHIVED',
      { ...TEMPORARY, sessionToken: '' },
    ],
    ['one job', '/jobs/01M8MBK7CZYSBNNNQ4WA2P5V5X', TEMPORARY],
    ['repeated names, spaces as + and as %20', '/jobs?tag=b%20c&tag=a+b&limit=5&x=', TEMPORARY],
    ['unsafe characters in the path, encoded twice', '/jobs/a%20b%2Fc~d!', TEMPORARY],
    ['dot segments and a trailing slash', '/jobs/./x/../01ABC/', TEMPORARY],
  ])('%s: the same signature', async (_name, path, credentials) => {
    const mine = await signRequest({
      method: 'GET',
      host: API_HOST,
      path,
      credentials,
      region: 'eu-west-1',
      service: 'execute-api',
      date,
    });
    const theirs = await smithyAuthorization(path, credentials, date);
    expect(mine.headers.authorization).toBe(theirs.authorization);
    expect(mine.headers['x-amz-date']).toBe(theirs.headers['x-amz-date']);
    expect(mine.headers['x-amz-security-token']).toBe(theirs.headers['x-amz-security-token']);
  });

  it('signs host, x-amz-date and the session token, nothing else', async () => {
    const signed = await signRequest({
      method: 'GET',
      host: API_HOST,
      path: '/jobs',
      credentials: TEMPORARY,
      region: 'eu-west-1',
      service: 'execute-api',
      date,
    });
    expect(signed.headers.authorization).toContain(
      `Credential=${TEMPORARY.accessKeyId}/20261129/eu-west-1/execute-api/aws4_request, ` +
        'SignedHeaders=host;x-amz-date;x-amz-security-token, ',
    );
    expect(Object.keys(signed.headers).sort()).toEqual([
      'authorization',
      'x-amz-date',
      'x-amz-security-token',
    ]);
    expect(JSON.stringify(signed.headers)).not.toContain(TEMPORARY.secretAccessKey);
  });

  it('sends the query exactly as it was signed, so any decoding on the other side agrees', async () => {
    const signed = await signRequest({
      method: 'GET',
      host: API_HOST,
      path: jobs,
      credentials: TEMPORARY,
      region: 'eu-west-1',
      service: 'execute-api',
      date,
    });
    const query = signed.path.slice(signed.path.indexOf('?') + 1);
    expect(signed.canonicalRequest.split('\n')[2]).toBe(query);
    expect(Object.fromEntries(new URLSearchParams(query))).toEqual(
      Object.fromEntries(new URLSearchParams(jobs.slice(jobs.indexOf('?') + 1))),
    );
    expect(query).not.toContain('+');
  });

  it('refuses to sign without credentials or region', async () => {
    const base = { method: 'GET', host: API_HOST, path: '/jobs', service: 'execute-api', date };
    await expect(
      signRequest({ ...base, credentials: { accessKeyId: '', secretAccessKey: '' }, region: 'eu-west-1' }),
    ).rejects.toThrow(/credentials/);
    await expect(signRequest({ ...base, credentials: TEMPORARY, region: '' })).rejects.toThrow(/region/);
  });
});

describe('canonical forms', () => {
  it('encodes path segments (as sent) once more, keeping slashes', () => {
    expect(canonicalPath('/')).toBe('/');
    expect(canonicalPath('/jobs/01ABC')).toBe('/jobs/01ABC');
    expect(canonicalPath('/jobs/a%20b')).toBe('/jobs/a%2520b');
    expect(canonicalPath('//jobs//x/')).toBe('/jobs/x/');
  });

  it('sorts by name, then value, with RFC 3986 encoding', () => {
    expect(canonicalQuery('')).toBe('');
    expect(canonicalQuery('?b=2&a=2&a=1')).toBe('a=1&a=2&b=2');
    expect(canonicalQuery("k=a b+c*!'()~")).toBe('k=a%20b%20c%2A%21%27%28%29~');
    expect(canonicalQuery('tag=team%3Dvision&flag')).toBe('flag=&tag=team%3Dvision');
  });
});
