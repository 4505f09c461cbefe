// The account a synthesized template would be deployed to, locally: physical names and ARNs for each logical id.
import { createHash } from 'node:crypto';
import type { ReferenceTable } from './intrinsics.ts';

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: unknown;
  Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface LocalAccountOptions {
  stackName: string;
  region: string;
  accountId: string;
  /** Physical names chosen for this run (the local stores' real names); others are derived as CloudFormation would. */
  names?: Record<string, string>;
  /** What `Fn::GetAtt Api.ApiEndpoint` answers: the local gateway's URL. */
  apiEndpoint?: string;
}

/** CloudFormation's generated names: `{stack}-{logicalId}-{suffix}`, here with a stable suffix. */
function generatedName(stackName: string, logicalId: string, maxLength = 64): string {
  const suffix = createHash('sha256')
    .update(`${stackName}/${logicalId}`)
    .digest('hex')
    .slice(0, 12)
    .toUpperCase();
  return `${stackName}-${logicalId}`.slice(0, maxLength - suffix.length - 1).concat(`-${suffix}`);
}

/** A physical id like a KMS key id or an API id: stable for a logical id. */
function generatedId(logicalId: string, length: number): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, length);
}

/**
 * Answers `Ref` and `Fn::GetAtt` as the account would after a deploy: names of the local table, bucket, bus and
 * secrets, ARNs in the given region and account, and the local gateway for the API endpoint.
 */
export class LocalAccount implements ReferenceTable {
  readonly partition = 'aws';

  constructor(
    readonly template: CfnTemplate,
    private readonly options: LocalAccountOptions,
  ) {}

  get region(): string {
    return this.options.region;
  }

  get accountId(): string {
    return this.options.accountId;
  }

  /** The physical name of a resource: given, from its properties, or generated. */
  physicalName(logicalId: string): string {
    const given = this.options.names?.[logicalId];
    if (given !== undefined) return given;
    const resource = this.resource(logicalId);
    const props = resource.Properties ?? {};
    const nameProperty: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::S3::Bucket': 'BucketName',
      'AWS::Events::EventBus': 'Name',
      'AWS::Events::Rule': 'Name',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::CloudWatch::Alarm': 'AlarmName',
      'AWS::SQS::Queue': 'QueueName',
    };
    const property = nameProperty[resource.Type];
    const value = property === undefined ? undefined : props[property];
    if (typeof value === 'string') return value;
    if (resource.Type === 'AWS::S3::Bucket')
      return generatedName(this.options.stackName, logicalId, 63).toLowerCase();
    if (resource.Type === 'AWS::SecretsManager::Secret') return `${logicalId}-${generatedId(logicalId, 12)}`;
    return generatedName(this.options.stackName, logicalId);
  }

  resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new Error(`no resource ${logicalId} in the template`);
    return resource;
  }

  ref(logicalId: string): string | undefined {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.region,
      'AWS::AccountId': this.accountId,
      'AWS::Partition': this.partition,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.options.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.options.stackName}/local`,
      'AWS::NoValue': '',
    };
    if (logicalId in pseudo) return pseudo[logicalId];
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) return undefined;
    switch (resource.Type) {
      // These answer their ARN to Ref.
      case 'AWS::SecretsManager::Secret':
      case 'AWS::SNS::Topic':
      case 'AWS::IAM::ManagedPolicy':
        return this.attribute(logicalId, 'Arn');
      case 'AWS::KMS::Key':
      case 'AWS::ApiGatewayV2::Api':
      case 'AWS::ApiGatewayV2::Integration':
      case 'AWS::ApiGatewayV2::Route':
        return generatedId(logicalId, resource.Type === 'AWS::KMS::Key' ? 32 : 10);
      // A queue answers its URL to Ref.
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${this.physicalName(logicalId)}`;
      default:
        return this.physicalName(logicalId);
    }
  }

  attribute(logicalId: string, attribute: string): string | undefined {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) return undefined;
    const { region, accountId } = this;
    const name = this.physicalName(logicalId);
    const arns: Record<string, () => string> = {
      'AWS::DynamoDB::Table': () => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`,
      'AWS::S3::Bucket': () => `arn:aws:s3:::${name}`,
      'AWS::Events::EventBus': () => `arn:aws:events:${region}:${accountId}:event-bus/${name}`,
      'AWS::Events::Rule': () => `arn:aws:events:${region}:${accountId}:rule/${name}`,
      // Secrets Manager appends six random characters to the name in every ARN.
      'AWS::SecretsManager::Secret': () =>
        `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${generatedId(name, 6)}`,
      'AWS::SNS::Topic': () => `arn:aws:sns:${region}:${accountId}:${name}`,
      'AWS::Lambda::Function': () => `arn:aws:lambda:${region}:${accountId}:function:${name}`,
      'AWS::IAM::Role': () => `arn:aws:iam::${accountId}:role/${name}`,
      'AWS::IAM::ManagedPolicy': () => `arn:aws:iam::${accountId}:policy/${name}`,
      'AWS::Logs::LogGroup': () => `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`,
      'AWS::CloudWatch::Alarm': () => `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}`,
      'AWS::KMS::Key': () => `arn:aws:kms:${region}:${accountId}:key/${this.ref(logicalId)}`,
      'AWS::SQS::Queue': () => `arn:aws:sqs:${region}:${accountId}:${name}`,
    };
    if (attribute === 'Arn' || (attribute === 'TopicArn' && resource.Type === 'AWS::SNS::Topic')) {
      return arns[resource.Type]?.();
    }
    if (attribute === 'Name' || attribute === 'TopicName' || attribute === 'QueueName') return name;
    if (resource.Type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return this.ref(logicalId);
    if (resource.Type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint') {
      return this.options.apiEndpoint ?? `https://${this.ref(logicalId)}.execute-api.${region}.amazonaws.com`;
    }
    if (resource.Type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiId') return this.ref(logicalId);
    if (resource.Type === 'AWS::KMS::Key' && attribute === 'KeyId') return this.ref(logicalId);
    if (resource.Type === 'AWS::S3::Bucket' && attribute === 'RegionalDomainName')
      return `${name}.s3.${region}.amazonaws.com`;
    return undefined;
  }

  /** Logical ids of one resource type. */
  logicalIdsOf(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  }
}
