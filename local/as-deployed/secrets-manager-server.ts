// Local Secrets Manager over its real JSON 1.1 protocol: GetSecretValue (and DescribeSecret) for the stack's secrets.
import { randomBytes, randomUUID } from 'node:crypto';
import { type AwsJsonServer, AwsServiceError, startAwsJsonServer } from './aws-json-server.ts';

export interface LocalSecret {
  arn: string;
  name: string;
  value: string;
}

export interface SecretsManagerServer extends AwsJsonServer {
  /** The full ARN of a secret given by ARN, name or partial ARN (as GetSecretValue accepts them). */
  arnOf(secretId: string): string;
  /** Replaces a secret's value (what `aws secretsmanager put-secret-value` does). */
  put(secretId: string, value: string): void;
}

/** What GenerateSecretString makes: letters and digits of the given length (punctuation and spaces excluded). */
export function generatedSecret(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(length)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export async function startSecretsManagerServer(secrets: LocalSecret[]): Promise<SecretsManagerServer> {
  const byArn = new Map(
    secrets.map((s) => [s.arn, { ...s, versionId: randomUUID(), created: Date.now() / 1000 }]),
  );
  const find = (secretId: string) => {
    for (const secret of byArn.values()) {
      // A partial ARN lacks the six-character suffix; a name is the ARN's last part without it.
      if (secret.arn === secretId || secret.name === secretId || secret.arn.startsWith(`${secretId}-`))
        return secret;
    }
    throw new AwsServiceError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret.",
    );
  };
  const server = await startAwsJsonServer('secretsmanager', {
    GetSecretValue: (input) => {
      const secret = find(String(input.SecretId ?? ''));
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.created,
      };
    },
    DescribeSecret: (input) => {
      const secret = find(String(input.SecretId ?? ''));
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
      };
    },
  });
  return {
    ...server,
    arnOf: (secretId) => find(secretId).arn,
    put: (secretId, value) => {
      const secret = find(secretId);
      secret.value = value;
      secret.versionId = randomUUID();
    },
  };
}
