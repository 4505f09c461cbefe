// The function bundles as synth writes them: local esbuild, minified ESM carrying its own AWS SDK, loadable anywhere.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { isBuiltin } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArchiverApp } from '../../lib/archiver-app.ts';
import { ESM_REQUIRE_BANNER, FUNCTION_BUNDLE } from '../../lib/bundling.ts';
import { CDK_JSON_CONTEXT, EXAMPLE_CONTEXT } from './support/synth.ts';
import { FUNCTION_IDS, type FunctionId, lambdaFunction } from './support/template-queries.ts';

/**
 * Optional peers the SDK tries inside try/catch, only for SigV4a signing (multi-region access points), which the
 * archiver never uses; without them the SDK would throw a clear error naming the package, and nothing here asks.
 */
const OPTIONAL_SDK_PEERS = ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'];

/** The configuration a handler reads at init, as the stack sets it (values that reach nothing real). */
const HANDLER_ENV = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  AWS_REGION: 'us-east-1',
  UPSTREAM_ENDPOINTS: JSON.stringify({ default: 'https://api.example.com/v2/ep' }),
  UPSTREAM_API_KEYS: JSON.stringify({ default: 'key' }),
  PUBLIC_BASE_URL: 'https://archiver.example.com',
  WEBHOOK_SECRET: 'bundle-test-secret-0123456789abcdef',
  JOBS_TABLE: 'jobs',
  ARCHIVE_BUCKET: 'archive',
  LOG_LEVEL: 'silent',
};

interface TemplateJson {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

describe('function bundles, as synthesized', () => {
  // Outside the project: nothing above the bundle has a node_modules, so only what the bundle carries can load.
  let outdir: string;
  const assetDirs = new Map<FunctionId, string>();
  const dockerBefore = process.env.CDK_DOCKER;

  beforeAll(() => {
    // Any attempt to bundle in Docker now fails: the bundles below can only come from local esbuild.
    process.env.CDK_DOCKER = '/nonexistent/docker-must-not-be-used';
    outdir = mkdtempSync(join(tmpdir(), 'archiver-bundles-'));
    const app = new App({
      context: { ...CDK_JSON_CONTEXT, ...EXAMPLE_CONTEXT },
      outdir,
      builtinCloudFormationValidation: false,
    });
    const stack = buildArchiverApp(app, {});
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as TemplateJson;
    const parsed = Template.fromJSON(template);
    for (const id of FUNCTION_IDS) {
      const key = (lambdaFunction(parsed, id).resource.Properties.Code as { S3Key?: string }).S3Key;
      if (!key) throw new Error(`no code for ${id}`);
      assetDirs.set(id, join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`));
    }
  });

  afterAll(() => {
    if (dockerBefore === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = dockerBefore;
    rmSync(outdir, { recursive: true, force: true });
  });

  const code = (id: FunctionId) => readFileSync(join(assetDirs.get(id) ?? '', 'index.mjs'), 'utf8');

  it.each(FUNCTION_IDS)('%s is one index.mjs and nothing else: no source map', (id) => {
    expect(readdirSync(assetDirs.get(id) ?? '')).toEqual(['index.mjs']);
    expect(/\/\/# sourceMappingURL=/.test(code(id))).toBe(false);
  });

  it.each(FUNCTION_IDS)(
    '%s is minified ESM that exports the handler, the createRequire banner first',
    (id) => {
      const text = code(id);
      expect(text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      // Assertions on booleans: a failure must not print a megabyte of bundle.
      expect(/export\s*\{[^}]*\bhandler\b[^}]*\}/.test(text)).toBe(true);
      expect(/\bmodule\.exports\s*=/.test(text)).toBe(false);
      expect(text.length / text.split('\n').length).toBeGreaterThan(1000);
      execFileSync(process.execPath, ['--check', join(assetDirs.get(id) ?? '', 'index.mjs')]);
    },
  );

  it.each(FUNCTION_IDS)('%s imports and requires nothing but Node built-ins', (id) => {
    const text = code(id);
    const specifiers = [
      ...text.matchAll(/\bfrom\s*["']([^"']+)["']/g),
      ...text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
      ...text.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g),
    ]
      .map((m) => m[1] ?? '')
      // Text that only looks like `from "..."` inside a string (a message) is not a module name.
      .filter((s) => !/\s/.test(s));
    const external = specifiers.filter((s) => !isBuiltin(s) && !OPTIONAL_SDK_PEERS.includes(s));
    expect([...new Set(external)]).toEqual([]);
  });

  it.each(FUNCTION_IDS)(
    '%s loads outside any node_modules, with NODE_PATH empty, and exposes handler()',
    (id) => {
      const entry = pathToFileURL(join(assetDirs.get(id) ?? '', 'index.mjs')).href;
      const out = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(entry)}); console.log(typeof m.handler);`,
        ],
        {
          cwd: outdir,
          env: {
            PATH: process.env.PATH,
            NODE_PATH: '',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          encoding: 'utf8',
        },
      );
      expect(out.trim()).toBe('function');
    },
  );

  it("answers a bad request body in zod's English, which zod/mini only has because the bundle installs it", () => {
    const entry = pathToFileURL(join(assetDirs.get('Submit') ?? '', 'index.mjs')).href;
    const event = {
      version: '2.0',
      routeKey: 'POST /jobs',
      rawPath: '/jobs',
      headers: { 'content-type': 'application/json' },
      requestContext: { http: { method: 'POST', path: '/jobs' }, requestId: 'bundle-test' },
      body: JSON.stringify({ input: {}, policy: { ttl: 1.5 }, stray: 1 }),
      isBase64Encoded: false,
    };
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(entry)}); const r = await m.handler(${JSON.stringify(event)}, {}); console.log(JSON.stringify(r));`,
      ],
      {
        cwd: outdir,
        env: {
          PATH: process.env.PATH,
          ...HANDLER_ENV,
        },
        encoding: 'utf8',
      },
    );
    const response = JSON.parse(out) as { statusCode: number; body: string };
    expect(response.statusCode).toBe(400);
    const messages = (
      JSON.parse(response.body) as { error: { details: { issues: { message: string }[] } } }
    ).error.details.issues.map((issue) => issue.message);
    expect(messages).toEqual(['Invalid input: expected int, received number', 'Unrecognized key: "stray"']);
  });

  it.each(FUNCTION_IDS)(
    '%s carries no SSO, INI profile, credential process or web identity provider',
    (id) => {
      const text = code(id);
      // Names only those providers read: the shared config keys, and web identity's token file variable.
      for (const marker of [
        'sso_start_url',
        'sso_session',
        'credential_process',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
      ]) {
        expect({ marker, found: text.includes(marker) }).toEqual({ marker, found: false });
      }
    },
  );

  it('signs its DynamoDB calls with the credentials of the environment, session token included', async () => {
    const seen: { authorization?: string; token?: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({
        authorization: req.headers.authorization,
        token: req.headers['x-amz-security-token'] as string | undefined,
      });
      req.resume();
      req.on('end', () => {
        // An empty GetItem answer: the job is unknown.
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const entry = pathToFileURL(join(assetDirs.get('Results') ?? '', 'index.mjs')).href;
      const jobId = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
      const event = {
        version: '2.0',
        routeKey: 'GET /jobs/{jobId}',
        rawPath: `/jobs/${jobId}`,
        headers: {},
        pathParameters: { jobId },
        requestContext: { http: { method: 'GET', path: `/jobs/${jobId}` }, requestId: 'bundle-signing' },
        isBase64Encoded: false,
      };
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(entry)}); const r = await m.handler(${JSON.stringify(event)}, {}); console.log(JSON.stringify(r));`,
        ],
        {
          cwd: outdir,
          env: {
            PATH: process.env.PATH,
            ...HANDLER_ENV,
            AWS_ACCESS_KEY_ID: 'AKIABUNDLESIGNING01',
            AWS_SECRET_ACCESS_KEY: 'bundle-signing-secret',
            AWS_SESSION_TOKEN: 'bundle-signing-session-token',
            AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
          },
          encoding: 'utf8',
        },
      );
      expect((JSON.parse(stdout) as { statusCode: number }).statusCode).toBe(404);
      expect(seen.length).toBeGreaterThan(0);
      for (const request of seen) {
        expect(request.authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIABUNDLESIGNING01\/\d{8}\/us-east-1\/dynamodb\//,
        );
        expect(request.token).toBe('bundle-signing-session-token');
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('carries the AWS SDK of package-lock.json, not the runtime one', () => {
    const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const version = lock.packages['node_modules/@aws-sdk/client-dynamodb']?.version;
    expect(version).toBeDefined();
    // The SDK's user agent names its own version: the bundled client says which one it is.
    expect(code('Results').includes(`"${version}"`)).toBe(true);
  });
});

/** Source files and packages one handler's bundle is made of, from esbuild's metafile with the deployed settings. */
async function bundleInputs(handler: string): Promise<string[]> {
  const result = await build({
    ...FUNCTION_BUNDLE,
    mainFields: [...FUNCTION_BUNDLE.mainFields],
    banner: { js: FUNCTION_BUNDLE.banner },
    entryPoints: [fileURLToPath(new URL(`../../functions/${handler}/handler.ts`, import.meta.url))],
    bundle: true,
    write: false,
    metafile: true,
    outfile: 'index.mjs',
    logLevel: 'silent',
  });
  // metafile.inputs lists every file esbuild looked at; the output's inputs are what survived tree-shaking.
  const output = Object.values(result.metafile.outputs)[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
}

describe('per-function composition', () => {
  const has = (inputs: string[], pattern: RegExp) => inputs.some((path) => pattern.test(path));

  it('leaves the upstream client, the URL fetcher, EventBridge and Secrets Manager out of the results bundle', async () => {
    const inputs = await bundleInputs('results');
    expect(has(inputs, /functions\/adapters\/upstream\//)).toBe(false);
    expect(has(inputs, /functions\/adapters\/url-fetcher\//)).toBe(false);
    expect(has(inputs, /@aws-sdk\/client-eventbridge\//)).toBe(false);
    expect(has(inputs, /@aws-sdk\/client-secrets-manager\//)).toBe(false);
    // What it does use is there.
    expect(has(inputs, /@aws-sdk\/client-dynamodb\//)).toBe(true);
    expect(has(inputs, /@aws-sdk\/s3-request-presigner\//)).toBe(true);
  });

  it.each(['submit', 'webhook', 'sweeper', 'results'])(
    'builds the %s schemas with zod/mini and only its English messages, not classic zod and its locales',
    async (handler) => {
      const inputs = await bundleInputs(handler);
      expect(has(inputs, /zod\/v4\/mini\//)).toBe(true);
      expect(has(inputs, /zod\/v4\/classic\//)).toBe(false);
      expect(
        inputs.filter((path) => /zod\/v4\/locales\//.test(path)).map((path) => path.replace(/^.*zod\//, '')),
      ).toEqual(['v4/locales/en.js']);
    },
  );

  it.each(['submit', 'webhook', 'sweeper', 'results'])(
    "gives %s Lambda's credential sources only: environment and container endpoint, no default chain",
    async (handler) => {
      const inputs = await bundleInputs(handler);
      expect(has(inputs, /functions\/adapters\/lambda-credentials\.ts$/)).toBe(true);
      expect(has(inputs, /@aws-sdk\/credential-provider-env\//)).toBe(true);
      expect(has(inputs, /@aws-sdk\/credential-provider-http\//)).toBe(true);
      expect(
        inputs.filter((path) =>
          /@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|login)|client-sso|client-sts|nested-clients)\//.test(
            path,
          ),
        ),
      ).toEqual([]);
    },
  );

  it('gives the sweeper no webhook secret reader and the page function no AWS SDK at all', async () => {
    expect(has(await bundleInputs('browser'), /@aws-sdk\//)).toBe(false);
    const sweeper = await bundleInputs('sweeper');
    expect(has(sweeper, /functions\/composition\/secret-parts\.ts$/)).toBe(true); // API keys, not the HMAC key
    expect(has(sweeper, /functions\/adapters\/upstream\//)).toBe(true);
  });
});
