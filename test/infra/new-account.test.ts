// What a new account's first `cdk deploy` meets: no reserved concurrency, nothing stateful left by a failed create,
// secrets that survive endpoint changes, and no placeholder endpoint that synth would let through.
import { describe, expect, it } from 'vitest';
import { API_KEY_PLACEHOLDER } from '../../lib/constructs/upstream-secrets.ts';
import { defaultSynth, synthesize, variantSynth } from './support/synth.ts';
import { FUNCTION_IDS, lambdaFunction, resourcesOfType } from './support/template-queries.ts';

/** Resource types that hold data or keys someone would miss: kept on delete and replace. */
const STATEFUL_TYPES = [
  'AWS::S3::Bucket',
  'AWS::DynamoDB::Table',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
] as const;

/** The alarm topic's key encrypts messages in flight only: deleting it loses nothing. */
const STATELESS_EXCEPTIONS = /^MonitoringTopicKey/;

describe.each([
  ['default', () => defaultSynth().template],
  ['every option on', () => variantSynth().template],
])('%s app on a new account', (_name, templateOf) => {
  it('reserves no concurrency for any function unless configured', () => {
    const template = templateOf();
    for (const id of FUNCTION_IDS) {
      const reserved = lambdaFunction(template, id).resource.Properties.ReservedConcurrentExecutions;
      // The variant asks for one sweeper slot on purpose; nothing else ever reserves.
      if (_name === 'every option on' && id === 'Sweeper') expect(reserved).toBe(1);
      else expect(reserved, id).toBeUndefined();
    }
  });

  it('keeps every stateful resource on delete and replace, but not when its own create rolls back', () => {
    const template = templateOf();
    const stateful = STATEFUL_TYPES.flatMap((type) => Object.entries(resourcesOfType(template, type)));
    expect(stateful.length).toBeGreaterThanOrEqual(5);
    for (const [id, resource] of stateful) {
      if (STATELESS_EXCEPTIONS.test(id)) {
        expect(resource.DeletionPolicy ?? 'Delete', id).toBe('Delete');
        continue;
      }
      expect(resource.DeletionPolicy, id).toBe('RetainExceptOnCreate');
      expect((resource as { UpdateReplacePolicy?: string }).UpdateReplacePolicy, id).toBe('Retain');
    }
    // Plain Retain is what a rollback honours too: nothing in the template may carry it.
    const retained = Object.entries(
      template.toJSON().Resources as Record<string, { DeletionPolicy?: string }>,
    )
      .filter(([, r]) => r.DeletionPolicy === 'Retain')
      .map(([id]) => id);
    expect(retained).toEqual([]);
  });
});

describe('a deletion-protected table', () => {
  it('is off by default: DynamoDB refuses the DeleteTable of a rolled-back create while protection is on', () => {
    const table = Object.values(resourcesOfType(defaultSynth().template, 'AWS::DynamoDB::Table'))[0];
    expect(table?.Properties.DeletionProtectionEnabled).toBe(false);
  });
});

describe('API-key secrets across endpoint changes', () => {
  const secretsOf = (endpoints: Record<string, string>) =>
    resourcesOfType(synthesize({ stackName: 'Secrets', endpoints }).template, 'AWS::SecretsManager::Secret');

  it('keep their logical id and placeholder text when the URL changes, so CloudFormation never rewrites them', () => {
    const before = secretsOf({ sdxl: 'https://api.runpod.ai/v2/abc' });
    const after = secretsOf({ sdxl: 'https://api.runpod.ai/v2/def' });
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [id, secret] of Object.entries(before)) {
      expect(after[id]?.Properties).toEqual(secret.Properties);
    }
  });

  it('are kept, with the key put in them, when their endpoint is renamed or removed', () => {
    const before = secretsOf({ sdxl: 'https://api.runpod.ai/v2/abc', llm: 'https://api.runpod.ai/v2/llm' });
    const after = secretsOf({ images: 'https://api.runpod.ai/v2/abc' });
    const dropped = Object.keys(before).filter((id) => !(id in after));
    expect(dropped.length).toBe(2);
    for (const id of dropped) {
      expect(before[id]?.Properties.SecretString).toBe(API_KEY_PLACEHOLDER);
      // Removed from the template → CloudFormation keeps the resource (RetainExceptOnCreate), key and all.
      expect(before[id]?.DeletionPolicy).toBe('RetainExceptOnCreate');
    }
  });
});
