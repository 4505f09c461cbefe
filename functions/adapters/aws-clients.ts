// The one place that builds AWS SDK clients: memoized getters for handlers, explicit factories for tests and local mode.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';

/** Static credentials (structurally the SDK's AwsCredentialIdentity). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Where a client talks to. Every field is optional: what is left out comes from the SDK's own resolution
 * (AWS_ENDPOINT_URL_<SERVICE> / AWS_ENDPOINT_URL, AWS_REGION, the default credential chain).
 */
export interface ClientTarget {
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentials;
}

export interface S3Target extends ClientTarget {
  /**
   * Emulator settings (path-style addressing, checksums only when required). Defaults to true when an
   * endpoint is given here or through the environment: s3rver stores aws-chunked framing as object bytes
   * otherwise, silently corrupting streamed uploads.
   */
  emulator?: boolean;
}

/** Marshalling shared by every document client: optional fields vanish, class instances are a bug. */
export const DOCUMENT_TRANSLATE_CONFIG = {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
} as const satisfies TranslateConfig;

/** Region used against emulators when AWS_REGION is unset (the SDK would refuse to sign without one). */
export const EMULATOR_DEFAULT_REGION = 'us-east-1';

/**
 * The endpoint the SDK itself will pick up from the environment for a service id ("S3", "DynamoDB"), by the
 * SDK's own precedence. Only read to choose emulator-friendly options; the SDK applies the endpoint itself
 * (verified in @smithy/core getEndpointUrlConfig for the 3.11xx clients), so it is not passed twice.
 */
function envEndpoint(serviceEnvSuffix: string): string | undefined {
  const env = process.env;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${serviceEnvSuffix}`] || env.AWS_ENDPOINT_URL || undefined;
}

function baseConfig(target: ClientTarget, serviceEnvSuffix: string) {
  const endpoint = target.endpoint;
  const usesEmulator = endpoint !== undefined || envEndpoint(serviceEnvSuffix) !== undefined;
  const region =
    target.region ?? (usesEmulator ? (process.env.AWS_REGION ?? EMULATOR_DEFAULT_REGION) : undefined);
  return {
    ...(endpoint !== undefined && { endpoint }),
    ...(region !== undefined && { region }),
    ...(target.credentials !== undefined && { credentials: target.credentials }),
  };
}

export function createDynamoClient(target: ClientTarget = {}): DynamoDBClient {
  return new DynamoDBClient(baseConfig(target, 'DYNAMODB'));
}

/** A document client over `client` (or over a new client for `target`), with the shared marshalling. */
export function createDynamoDocumentClient(from: ClientTarget | DynamoDBClient = {}): DynamoDBDocumentClient {
  const client = from instanceof DynamoDBClient ? from : createDynamoClient(from);
  return DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATE_CONFIG);
}

export function createS3Client(target: S3Target = {}): S3Client {
  const emulator = target.emulator ?? (target.endpoint !== undefined || envEndpoint('S3') !== undefined);
  return new S3Client({
    ...baseConfig(target, 'S3'),
    ...(emulator && {
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
    }),
  });
}

export function createEventBridgeClient(target: ClientTarget = {}): EventBridgeClient {
  return new EventBridgeClient(baseConfig(target, 'EVENTBRIDGE'));
}

export function createSecretsManagerClient(target: ClientTarget = {}): SecretsManagerClient {
  return new SecretsManagerClient(baseConfig(target, 'SECRETS_MANAGER'));
}

export function createSqsClient(target: ClientTarget = {}): SQSClient {
  return new SQSClient(baseConfig(target, 'SQS'));
}

// Module-scope singletons: built on first use so a Lambda cold start pays only for the clients it needs,
// then reused across invocations (connection reuse).
let dynamo: DynamoDBClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;
let s3: S3Client | undefined;
let eventBridge: EventBridgeClient | undefined;
let secretsManager: SecretsManagerClient | undefined;
let sqs: SQSClient | undefined;

export function getDynamoClient(): DynamoDBClient {
  dynamo ??= createDynamoClient();
  return dynamo;
}

export function getDynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= createDynamoDocumentClient(getDynamoClient());
  return documentClient;
}

export function getS3Client(): S3Client {
  s3 ??= createS3Client();
  return s3;
}

export function getEventBridgeClient(): EventBridgeClient {
  eventBridge ??= createEventBridgeClient();
  return eventBridge;
}

export function getSecretsManagerClient(): SecretsManagerClient {
  secretsManager ??= createSecretsManagerClient();
  return secretsManager;
}

export function getSqsClient(): SQSClient {
  sqs ??= createSqsClient();
  return sqs;
}

/** Drops the memoized clients (closing their sockets) so the next getter call re-reads the environment. */
export function resetAwsClients(): void {
  // The document client wraps `dynamo`; destroying the base client releases both.
  for (const client of [dynamo, s3, eventBridge, secretsManager, sqs]) client?.destroy();
  dynamo = documentClient = s3 = eventBridge = secretsManager = sqs = undefined;
}
