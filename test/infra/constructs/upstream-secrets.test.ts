// Secrets: a placeholder API-key secret per endpoint (or the user's own), and a generated webhook HMAC key.
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { API_KEY_PLACEHOLDER } from '../../../lib/constructs/upstream-secrets.ts';
import { defaultSynth, variantSynth } from '../support/synth.ts';
import { resourcesOfType } from '../support/template-queries.ts';

describe('upstream secrets', () => {
  it('creates one API-key secret per endpoint holding a placeholder, and outputs its ARN', () => {
    const { template } = defaultSynth();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: API_KEY_PLACEHOLDER,
      Description: Match.stringLikeRegexp('endpoint "default"'),
    });
    template.hasOutput('*', {
      Value: { Ref: Match.stringLikeRegexp('^SecretsApiKeydefault') },
      Description: Match.stringLikeRegexp('put-secret-value'),
    });
  });

  it('generates the webhook HMAC key in Secrets Manager (64 characters, never in the template)', () => {
    const { template } = defaultSynth();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      SecretString: Match.absent(),
    });
  });

  it('uses existing secrets by name or ARN without creating them', () => {
    const { template } = variantSynth();
    // Three endpoints: "default" gets a created secret, "sdxl" and "llm" name existing ones.
    const secrets = Object.values(resourcesOfType(template, 'AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    expect(JSON.stringify(secrets)).not.toContain('sdxl');
  });
});
