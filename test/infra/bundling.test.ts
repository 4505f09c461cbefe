// The one test that really bundles: the webhook function with local esbuild (Docker made unusable), output ESM.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiverFunction, ESM_REQUIRE_BANNER } from '../../lib/constructs/archiver-function.ts';
import { CDK_JSON_CONTEXT } from './support/synth.ts';

// Inside the project (gitignored), so importing the bundle resolves the SDK the way the Lambda runtime provides it.
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

describe('bundling with local esbuild', () => {
  let outdir: string;
  let assetDir: string;
  const dockerBefore = process.env.CDK_DOCKER;

  beforeAll(() => {
    // Any attempt to bundle in Docker now fails: the bundle below can only come from local esbuild.
    process.env.CDK_DOCKER = '/nonexistent/docker-must-not-be-used';
    mkdirSync(ARTIFACTS, { recursive: true });
    outdir = mkdtempSync(join(ARTIFACTS, 'bundling-'));
    const app = new App({ context: CDK_JSON_CONTEXT, outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Bundling');
    new ArchiverFunction(stack, 'FunctionsWebhook', {
      entry: 'webhook/handler.ts',
      description: 'bundling test',
      memorySize: 1024,
      timeout: Duration.seconds(10),
      logRetention: RetentionDays.ONE_DAY,
      environment: {},
    });
    const assembly = app.synth();
    assetDir = join(
      assembly.directory,
      `asset.${codeAssetHash(assembly.getStackByName('Bundling').template)}`,
    );
  });

  afterAll(() => {
    if (dockerBefore === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = dockerBefore;
    rmSync(outdir, { recursive: true, force: true });
  });

  it('writes index.mjs with its external source map', () => {
    expect(existsSync(join(assetDir, 'index.mjs'))).toBe(true);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    // Node's --enable-source-maps finds the map only through this comment.
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/.test(code)).toBe(true);
  });

  it('is minified ESM that exports the handler, with the createRequire banner first', () => {
    const code = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    // Assertions on booleans: a failure must not print half a megabyte of bundle.
    expect(/export\s*\{[^}]*\bhandler\b[^}]*\}/.test(code)).toBe(true);
    expect(/\bmodule\.exports\s*=/.test(code)).toBe(false);
    // Minified: lines thousands of characters long, not the source layout.
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    // Node parses it as an ES module.
    execFileSync(process.execPath, ['--check', join(assetDir, 'index.mjs')]);
  });

  it('leaves the AWS SDK to the runtime and keeps sources out of the map', () => {
    const map = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources.some((s) => s.includes('functions/webhook/handler.ts'))).toBe(true);
    expect(map.sources.filter((s) => /node_modules\/@(aws-sdk|smithy)\//.test(s))).toEqual([]);
    expect(map.sourcesContent).toBeUndefined();
  });

  it('loads as a module and exposes handler()', async () => {
    const mod = (await import(join(assetDir, 'index.mjs'))) as { handler?: unknown };
    expect(typeof mod.handler).toBe('function');
  });
});

interface TemplateJson {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

/** Asset hash of the function's code: its S3 key without `.zip`. */
function codeAssetHash(template: TemplateJson): string {
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  const key = (fn?.Properties.Code as { S3Key?: string } | undefined)?.S3Key;
  if (!key) throw new Error('no function code in the template');
  return key.replace(/\.zip$/, '');
}
