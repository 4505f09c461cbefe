// The bundles' credential chain: the environment first, then the container endpoint, and a clear error otherwise.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultProvider, NO_LAMBDA_CREDENTIALS } from '../../../functions/adapters/lambda-credentials.ts';

const VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_PROFILE',
] as const;

describe('defaultProvider of the function bundles', () => {
  const saved = new Map<string, string | undefined>();
  beforeEach(() => {
    for (const name of VARIABLES) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("returns the role's credentials Lambda puts in the environment, session token included", async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENVIRONMENT0001';
    process.env.AWS_SECRET_ACCESS_KEY = 'environment-secret';
    process.env.AWS_SESSION_TOKEN = 'environment-session';
    expect(await defaultProvider()()).toMatchObject({
      accessKeyId: 'AKIAENVIRONMENT0001',
      secretAccessKey: 'environment-secret',
      sessionToken: 'environment-session',
    });
  });

  it('asks the container endpoint, with its authorization token, when the environment has no keys (SnapStart)', async () => {
    const authorizations: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      authorizations.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          AccessKeyId: 'AKIACONTAINER000001',
          SecretAccessKey: 'container-secret',
          Token: 'container-session',
          Expiration: '2099-01-01T00:00:00Z',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${port}/credentials`;
      process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'container-authorization';
      const credentials = await defaultProvider()();
      expect(credentials).toMatchObject({
        accessKeyId: 'AKIACONTAINER000001',
        secretAccessKey: 'container-secret',
        sessionToken: 'container-session',
      });
      expect(credentials.expiration?.toISOString()).toBe('2099-01-01T00:00:00.000Z');
      expect(authorizations).toEqual(['container-authorization']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('names both sources it looked for when neither is there, and does not try profiles', async () => {
    process.env.AWS_PROFILE = 'someone-elses-profile';
    await expect(defaultProvider()()).rejects.toThrow(NO_LAMBDA_CREDENTIALS);
    expect(NO_LAMBDA_CREDENTIALS).toMatch(/AWS_ACCESS_KEY_ID.*AWS_CONTAINER_CREDENTIALS_FULL_URI/);
  });
});
