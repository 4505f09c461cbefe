// Synthesizes the stack in-process, bundles included, and finds each function's asset, environment and role.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { buildArchiverApp } from '../../lib/archiver-app.ts';
import type { ArchiverStack } from '../../lib/archiver-stack.ts';
import type { CfnTemplate } from './local-account.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The function construct ids of the stack (ArchiverFunctions.all). */
export type FunctionId = 'Submit' | 'Submitter' | 'Webhook' | 'Sweeper' | 'Results' | 'Browser';

/** One function as the template deploys it: its code folder and configuration, intrinsics unresolved. */
export interface SynthesizedFunction {
  id: FunctionId;
  logicalId: string;
  /** cdk.out/asset.<hash>: the folder Lambda unzips, holding index.mjs. */
  assetDir: string;
  /** `index.handler`. */
  handler: string;
  environment: Record<string, unknown>;
  roleLogicalId: string;
  timeoutSeconds: number;
  memorySize: number;
}

export interface SynthesizedApp {
  stack: ArchiverStack;
  stackName: string;
  template: CfnTemplate;
  /** The cloud assembly folder (cdk.out). */
  directory: string;
  functions: Record<FunctionId, SynthesizedFunction>;
}

export interface SynthOptions {
  /** Stack configuration (lib/stack-config.ts keys); `endpoints` must be given, cdk.json's is never used. */
  context: Record<string, unknown> & { endpoints: unknown };
  /**
   * Parent folder of the cdk.out written now. Inside the project by default: a bundle that leaves the SDK
   * external then resolves it from the project's node_modules, as a runtime-provided SDK would be.
   */
  parentDir?: string;
}

/** cdk.json's feature flags (never its example configuration: the caller says what it deploys). */
function featureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(cdkJson.context ?? {}).filter(([key]) => key.startsWith('@aws-cdk')),
  );
}

/** `cdk synth` in-process: the bundles are built for real (esbuild), exactly as a deploy would upload them. */
export function synthesizeApp(options: SynthOptions): SynthesizedApp {
  const parentDir = options.parentDir ?? join(PROJECT_ROOT, '.archiver', 'as-deployed');
  mkdirSync(parentDir, { recursive: true });
  const outdir = mkdtempSync(join(parentDir, 'cdk.out-'));
  const app = new App({
    outdir,
    context: { ...featureFlags(), ...options.context },
    builtinCloudFormationValidation: false,
  });
  // No ARCHIVER_* variables: what runs is what the context says, whatever the shell has set.
  const stack = buildArchiverApp(app, {});
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;
  const functions = {} as Record<FunctionId, SynthesizedFunction>;
  for (const [id, fn] of Object.entries(stack.functions.all) as [
    FunctionId,
    { node: { defaultChild?: unknown } },
  ][]) {
    const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnFunction);
    functions[id] = describeFunction(id, logicalId, template, assembly.directory);
  }
  return { stack, stackName: stack.stackName, template, directory: assembly.directory, functions };
}

function describeFunction(
  id: FunctionId,
  logicalId: string,
  template: CfnTemplate,
  directory: string,
): SynthesizedFunction {
  const props = template.Resources[logicalId]?.Properties ?? {};
  const code = props.Code as { S3Key?: string } | undefined;
  const hash = code?.S3Key?.replace(/\.zip$/, '');
  const assetDir = join(directory, `asset.${hash}`);
  if (hash === undefined || !existsSync(assetDir)) throw new Error(`${id}: no code asset in ${directory}`);
  const role = props.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleLogicalId = role?.['Fn::GetAtt']?.[0];
  if (roleLogicalId === undefined) throw new Error(`${id}: its role is not a role of this stack`);
  return {
    id,
    logicalId,
    assetDir,
    handler: String(props.Handler ?? 'index.handler'),
    environment: (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
    roleLogicalId,
    timeoutSeconds: Number(props.Timeout ?? 3),
    memorySize: Number(props.MemorySize ?? 128),
  };
}
