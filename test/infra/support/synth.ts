// Synthesizes the archiver app once per test file (memoized), without bundling, with the context of cdk.json.
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildArchiverApp } from '../../../lib/archiver-app.ts';
import type { ArchiverStack } from '../../../lib/archiver-stack.ts';

interface CdkJson {
  context: Record<string, unknown>;
}

/** The context of cdk.json as committed: feature flags and defaults, no endpoint. */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8')) as CdkJson
).context;

/** What `npm run synth:example` adds: the fake example endpoint (lib/stack-config.ts EXAMPLE_ENDPOINTS). */
export const EXAMPLE_CONTEXT: Record<string, unknown> = { example: true };

/** Every non-default option at once: KMS, Object Lock, e-mail, existing secrets, a custom domain. */
export const VARIANT_CONTEXT: Record<string, unknown> = {
  stackName: 'ArchiverVariant',
  endpoints: {
    default: 'https://api.runpod.ai/v2/abc123',
    sdxl: {
      url: 'https://api.runpod.ai/v2/sdxl456',
      apiKeySecret: 'prod/runpod/sdxl',
      apiKeySecretKmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
    llm: {
      url: 'https://api.runpod.ai/v2/llm789',
      apiKeySecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:runpod-llm-AbCdEf',
      verification: 'trust',
    },
  },
  defaultEndpoint: 'sdxl',
  retentionMinutes: 30,
  lookIntervalSeconds: 300,
  sweepEveryMinutes: 2,
  webhookVerification: 'background',
  objectLockDays: 2555,
  objectLockMode: 'COMPLIANCE',
  archiveEncryption: 'kms',
  infrequentAccessAfterDays: 0,
  glacierAfterDays: 60,
  alarmEmail: 'ops@example.com',
  publicBaseUrl: 'https://archiver.example.com',
  logRetentionDays: 90,
  tableDeletionProtection: true,
  sweeperReservedConcurrency: 1,
};

export interface Synthesized {
  app: App;
  stack: ArchiverStack;
  template: Template;
  assembly: CloudAssembly;
}

/**
 * Builds and synthesizes an app; bundling is skipped (one dedicated test bundles for real).
 * CDK's built-in CloudFormation validation costs seconds per worker, so only the cdk-nag test turns it on.
 */
export function synthesize(context: Record<string, unknown> = {}, cfnValidation = false): Synthesized {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...EXAMPLE_CONTEXT, ...context, 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: cfnValidation,
  });
  const stack = buildArchiverApp(app, {});
  const assembly = app.synth();
  return { app, stack, template: Template.fromStack(stack), assembly };
}

/** An empty app with the feature flags of cdk.json, for constructs tested alone. */
export function bareApp(): App {
  return new App({ context: CDK_JSON_CONTEXT, builtinCloudFormationValidation: false });
}

let defaultApp: Synthesized | undefined;
let variantApp: Synthesized | undefined;

/** The app exactly as `npm run synth:example` builds it (cdk.json context, no ARCHIVER_* overrides). */
export function defaultSynth(): Synthesized {
  defaultApp ??= synthesize();
  return defaultApp;
}

/** The app with every optional feature switched on (VARIANT_CONTEXT). */
export function variantSynth(): Synthesized {
  variantApp ??= synthesize(VARIANT_CONTEXT);
  return variantApp;
}
