// Secrets Manager secrets: one upstream API key per endpoint (created or existing) and the generated webhook HMAC key.
import { CfnOutput, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { API_KEY_PLACEHOLDER } from '../../functions/adapters/secrets.ts';
import type { EndpointConfig } from '../stack-config.ts';
import type { ApiKeySecretBinding } from './archiver-function.ts';

export { API_KEY_PLACEHOLDER };

/** A secret and the id the runtime passes to GetSecretValue: the full ARN, or the name the user gave. */
export type ApiKeySecret = ApiKeySecretBinding;

export interface UpstreamSecretsProps {
  readonly endpoints: Readonly<Record<string, EndpointConfig>>;
}

export class UpstreamSecrets extends Construct {
  /** Endpoint name → the secret whose value is that endpoint's API key (the raw key, not JSON). */
  readonly apiKeys: Readonly<Record<string, ApiKeySecret>>;
  /** Random key the callback-URL tokens are HMACs with. */
  readonly webhookSecret: Secret;
  /** Secrets this stack created (and so owns and acknowledges); existing ones belong to the user. */
  readonly createdApiKeys: readonly Secret[];

  constructor(scope: Construct, id: string, props: UpstreamSecretsProps) {
    super(scope, id);
    const apiKeys: Record<string, ApiKeySecret> = {};
    const created: Secret[] = [];
    for (const [name, endpoint] of Object.entries(props.endpoints)) {
      if (endpoint.apiKeySecret) {
        const secret = importSecret(this, `ApiKey-${name}`, endpoint.apiKeySecret);
        apiKeys[name] = {
          secret,
          secretId: endpoint.apiKeySecret,
          kmsKeyArn: endpoint.apiKeySecretKmsKey,
        };
        continue;
      }
      // A placeholder, not a real value: CloudFormation only writes it on creation (or if this text changes),
      // so a key put in later with put-secret-value survives every deploy. Once created it holds a real key:
      // kept when the endpoint is renamed or removed, or the stack deleted (only a failed first create
      // deletes it, empty), so no deploy can destroy a key the user put in.
      const secret = new Secret(this, `ApiKey-${name}`, {
        description: `Upstream API key for endpoint "${name}"; replace the placeholder with the key`,
        secretStringValue: SecretValue.unsafePlainText(API_KEY_PLACEHOLDER),
        removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
      new CfnOutput(this, `ApiKeySecretArn-${name}`, {
        description: `Put the API key of endpoint "${name}" here (aws secretsmanager put-secret-value)`,
        value: secret.secretArn,
      });
      apiKeys[name] = { secret, secretId: secret.secretArn };
      created.push(secret);
    }
    this.apiKeys = apiKeys;
    this.createdApiKeys = created;
    // Kept like the API keys: a new HMAC key would invalidate the callback URL of every job in flight.
    this.webhookSecret = new Secret(this, 'WebhookHmacKey', {
      description: 'HMAC key of the webhook callback tokens (generated; never leaves Secrets Manager)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }
}

/** A complete ARN (with its 6-character suffix) grants exactly that secret; a name grants `name-??????`. */
function importSecret(scope: Construct, id: string, nameOrArn: string): ISecret {
  return nameOrArn.startsWith('arn:')
    ? Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : Secret.fromSecretNameV2(scope, id, nameOrArn);
}
