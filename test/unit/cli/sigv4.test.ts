// The SigV4 signer against a known request: scope, signed headers, and the signature recomputed independently.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiClient } from '../../../cli/http/client.ts';
import { createSigV4Signer } from '../../../cli/http/sigv4.ts';

// AWS's documentation example credentials.
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SIGNING_DATE = new Date('2015-08-30T12:36:00Z');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

/** SigV4 as the AWS documentation writes it out, step by step, for the headers the signer chose to sign. */
function expectedSignature(options: {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  signedHeaders: string[];
  body: string;
  region: string;
}): string {
  const canonicalHeaders = options.signedHeaders
    .map((h) => `${h}:${(options.headers[h] ?? '').trim()}\n`)
    .join('');
  const canonicalRequest = [
    options.method,
    options.path,
    options.query,
    canonicalHeaders,
    options.signedHeaders.join(';'),
    sha256(options.body),
  ].join('\n');
  const scope = `20150830/${options.region}/execute-api/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', '20150830T123600Z', scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${CREDENTIALS.secretAccessKey}`, '20150830');
  for (const part of [options.region, 'execute-api', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

function parseAuthorization(header: string | undefined) {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    header ?? '',
  );
  if (!match) throw new Error(`not a SigV4 authorization header: ${header}`);
  return {
    credential: match[1] ?? '',
    signedHeaders: (match[2] ?? '').split(';'),
    signature: match[3] ?? '',
  };
}

describe('SigV4 signer', () => {
  const sign = createSigV4Signer({
    region: 'eu-west-1',
    service: 'execute-api',
    credentials: CREDENTIALS,
    signingDate: SIGNING_DATE,
  });

  it('signs a GET with a query for execute-api, and the signature is the documented algorithm', async () => {
    const url = new URL(
      'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/jobs?state=ARCHIVED&tag=team%3Dvision&limit=5',
    );
    const headers = await sign({ method: 'GET', url, headers: { accept: 'application/json' } });
    const auth = parseAuthorization(headers.authorization);
    expect(auth.credential).toBe('AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request');
    expect(auth.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date']));
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers.host).toBe('a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com');
    expect(auth.signature).toBe(
      expectedSignature({
        method: 'GET',
        path: '/jobs',
        // Canonical query: sorted by key, RFC 3986 encoded.
        query: 'limit=5&state=ARCHIVED&tag=team%3Dvision',
        headers,
        signedHeaders: auth.signedHeaders,
        body: '',
        region: 'eu-west-1',
      }),
    );
  });

  it('covers the body and extra headers of a POST, and carries a session token', async () => {
    const withToken = createSigV4Signer({
      region: 'us-east-1',
      service: 'execute-api',
      credentials: { ...CREDENTIALS, sessionToken: 'session-token-example' },
      signingDate: SIGNING_DATE,
    });
    const body = JSON.stringify({ input: { prompt: 'a lighthouse' } });
    const url = new URL('https://api.example.com:8443/prod/jobs');
    const headers = await withToken({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'cli-key-12345678' },
      body,
    });
    const auth = parseAuthorization(headers.authorization);
    expect(auth.credential).toBe('AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request');
    expect(headers['x-amz-security-token']).toBe('session-token-example');
    expect(headers.host).toBe('api.example.com:8443');
    expect(auth.signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'idempotency-key']));
    expect(auth.signature).toBe(
      expectedSignature({
        method: 'POST',
        path: '/prod/jobs',
        query: '',
        headers,
        signedHeaders: auth.signedHeaders,
        body,
        region: 'us-east-1',
      }),
    );
    // A different body is a different signature.
    const other = await withToken({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(parseAuthorization(other.authorization).signature).not.toBe(auth.signature);
  });

  it('turns missing credentials into exit code 5 with a way out', async () => {
    const broken = createSigV4Signer({
      region: 'eu-west-1',
      service: 'execute-api',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    await expect(
      broken({
        method: 'GET',
        url: new URL('https://x.execute-api.eu-west-1.amazonaws.com/jobs'),
        headers: {},
      }),
    ).rejects.toMatchObject({ exitCode: 5, message: expect.stringContaining('no AWS credentials') });
  });

  it('the API client sends the signed headers (without Host) on the URL it signed', async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const client = new ApiClient({
      baseUrl: new URL('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com'),
      auth: { kind: 'sigv4', region: 'eu-west-1', service: 'execute-api' },
      signer: async () => sign,
      fetch: async (input, init) => {
        seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
        return new Response(JSON.stringify({ jobs: [] }), { status: 200 });
      },
    });
    await client.request('GET', '/jobs', z.unknown(), { query: { tag: 'team=a b', limit: 5 } });
    expect(seen[0]?.url).toBe(
      'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/jobs?tag=team%3Da%20b&limit=5',
    );
    expect(seen[0]?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\/aws4_request/,
    );
    expect(seen[0]?.headers).not.toHaveProperty('host');
  });
});
