// docs/deploy.md walked as a newcomer would: the synth commands and every jq step, run here against real output.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDK_JSON_CONTEXT } from './support/synth.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
const STACK = 'SubmodelArchiver';

/** Shell lines of the ```sh blocks of the page. */
function shellLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.flatMap((b) => b.split('\n')).map((l) => l.trim());
}

interface Template {
  Outputs: Record<string, unknown>;
  Resources: Record<string, { Type: string; DeletionPolicy?: string }>;
}

describe('docs/deploy.md, run', () => {
  let work: string;
  let template: Template;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'archiver-deploy-doc-'));
    // `npm run synth:example` as documented, writing to this directory's cdk.out as the doc's jq steps expect.
    execFileSync('npm', ['run', '--silent', 'synth:example', '--', '-o', join(work, 'cdk.out'), '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1' },
      stdio: 'pipe',
    });
    template = JSON.parse(readFileSync(join(work, 'cdk.out', `${STACK}.template.json`), 'utf8')) as Template;
    // What `cdk deploy --outputs-file cdk-outputs.json` writes: stack → output id → value.
    const outputs = Object.fromEntries(Object.keys(template.Outputs).map((id) => [id, `value-of-${id}`]));
    writeFileSync(join(work, 'cdk-outputs.json'), JSON.stringify({ [STACK]: outputs }));
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('`npm run synth` with no endpoint configured fails, naming what to set and how to make it stick', () => {
    // What the CDK CLI runs for `npm run synth` (cdk.json "app"), with the context of cdk.json as committed.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        CDK_CONTEXT_JSON: JSON.stringify(CDK_JSON_CONTEXT),
        CDK_OUTDIR: join(work, 'refused.out'),
      },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('No upstream endpoint configured');
    expect(run.stderr).toContain('cdk.context.json');
    expect(run.stderr).toContain('ARCHIVER_ENDPOINTS');
    expect(existsSync(join(work, 'refused.out', `${STACK}.template.json`))).toBe(false);
  });

  it('`npm run synth:example` synthesizes offline with the fake endpoint under .invalid', () => {
    const text = JSON.stringify(template);
    expect(text).toContain('example-endpoint.invalid');
    expect(text).not.toContain('api.runpod.ai');
  });

  const jqLines = shellLines(DOC).filter((l) => /\bjq\b/.test(l));

  it('has jq steps to walk', () => {
    expect(jqLines.length).toBeGreaterThanOrEqual(4);
  });

  it.each(jqLines)('runs `%s` against the synthesized template and outputs', (line) => {
    const assigned = /^([A-Z_]+)=\$\(/.exec(line)?.[1];
    const script = `set -euo pipefail\n${line}\n${assigned ? `printf '%s' "$${assigned}"` : ''}`;
    // ENDPOINT: the doc's example names "sdxl"; the example stack's only endpoint is "default".
    const out = execFileSync('bash', ['-c', script], {
      cwd: work,
      env: { PATH: process.env.PATH, ENDPOINT: 'default' },
      encoding: 'utf8',
    }).trim();
    expect(out).not.toBe('');
    expect(out).not.toContain('null');
    if (assigned) expect(out).toMatch(/^value-of-/);
  });

  it('names an alarm prefix in the smoke test that the stack really has', () => {
    const line = shellLines(DOC).find((l) => l.includes('--alarm-name-prefix')) ?? '';
    const prefix = /--alarm-name-prefix (\S+)/.exec(line)?.[1] ?? '';
    // CloudFormation names an alarm without a name of its own {stack}-{logical id}-{suffix}.
    expect(prefix.startsWith(`${STACK}-`)).toBe(true);
    const logical = prefix.slice(STACK.length + 1);
    const alarms = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.some(([id]) => id.startsWith(logical))).toBe(true);
    expect(shellLines(DOC).some((l) => l.startsWith('aws cloudwatch set-alarm-state'))).toBe(true);
  });
});
