// cdk-nag AwsSolutions (and CDK's own template validation): zero findings, every acknowledgement in one file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthesize, VARIANT_CONTEXT } from './support/synth.ts';

interface ValidationReport {
  pluginReports: { pluginName?: string; summary?: { pluginName?: string }; violations?: unknown[] }[];
}

/** Acknowledged rule id → reason, across the whole tree. */
function acknowledgements(root: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.set(`${construct.node.path} ${id.replace(/^annotation::/i, '')}`, reason);
      }
    }
  }
  return found;
}

describe.each([
  ['default (cdk.json)', {}],
  ['every option on', VARIANT_CONTEXT],
])('%s app', (_name, context) => {
  let synth: Synthesized;
  // Synthesis runs the AwsSolutions plugin and CDK's CloudFormation validation; an error would throw here.
  beforeAll(() => {
    synth = synthesize(context, true);
  });

  it('has an empty validation report: no AwsSolutions error or warning, no template error', () => {
    const report = JSON.parse(
      readFileSync(join(synth.assembly.directory, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const violations = report.pluginReports.flatMap((r) => r.violations ?? []);
    expect(violations).toEqual([]);
  });

  it('passes the AwsSolutions checks run directly over the tree', () => {
    const result = new AwsSolutionsChecks().validateScope(synth.app);
    expect(result.violations).toEqual([]);
    expect(result.success).toBe(true);
  });

  it('has no warning or error annotation', () => {
    const annotations = Annotations.fromStack(synth.stack);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });

  it('acknowledges only the accepted rules, each with a reason', () => {
    const acks = acknowledgements(synth.app);
    const rules = new Set([...acks.keys()].map((k) => k.split(' ')[1]?.replace(/\[.*$/, '')));
    expect([...rules].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-SMG4',
    ]);
    for (const [where, reason] of acks) expect(reason.length, where).toBeGreaterThan(40);
  });
});

describe('acknowledgements', () => {
  it('are all made in lib/nag-acknowledgements.ts', () => {
    const libDir = new URL('../../lib/', import.meta.url);
    const files = readdirSync(libDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const acknowledging = files.filter((f) =>
      /\.acknowledge\(|acknowledgeWarning\(/.test(readFileSync(new URL(f, libDir), 'utf8')),
    );
    expect(acknowledging).toEqual(['nag-acknowledgements.ts']);
    expect(readFileSync(new URL('../../bin/app.ts', import.meta.url), 'utf8')).not.toMatch(/acknowledge/);
  });
});

describe('acknowledgement reasons', () => {
  it('cite only files that exist', () => {
    const synth = synthesize({}, false);
    const root = new URL('../../', import.meta.url);
    const cited = [...acknowledgements(synth.app).values()].flatMap((reason) =>
      [...reason.matchAll(/\b([\w-]+(?:\/[\w.-]+)*\.(?:md|ts))\b/g)].map((m) => m[1] ?? ''),
    );
    expect(cited.length).toBeGreaterThan(0);
    expect([...new Set(cited)].filter((path) => !existsSync(new URL(path, root)))).toEqual([]);
  });
});

describe('an environment-agnostic template', () => {
  it('bakes no region, account or partition into the ARNs it builds', () => {
    const text = JSON.stringify(synthesize({ stackName: 'Agnostic' }).template.toJSON());
    // An account id is 12 digits standing alone; asset hashes are hex and may hold 12 digits in a row.
    expect(text.match(/us-east-1|eu-west-1|arn:aws:|(?<![0-9a-fA-F])\d{12}(?![0-9a-fA-F])/g) ?? []).toEqual(
      [],
    );
  });
});
