// Stateful storage, kept on stack deletion and replacement (never by a failed first create): archive, logs, jobs.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  HttpMethods,
  type LifecycleRule,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
  type Transition,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../functions/adapters/table-definition.ts';
import type { StackConfig } from '../stack-config.ts';

export type ArchiveStorageProps = Pick<
  StackConfig,
  | 'archiveEncryption'
  | 'objectLockDays'
  | 'objectLockMode'
  | 'infrequentAccessAfterDays'
  | 'glacierAfterDays'
  | 'noncurrentVersionDays'
  | 'logRetentionDays'
  | 'tableDeletionProtection'
>;

/**
 * Kept when the stack is deleted or the resource replaced or removed (DeletionPolicy RetainExceptOnCreate,
 * UpdateReplacePolicy Retain), but deleted when the create that made it rolls back: a failed first deploy leaves
 * no empty bucket, table or key behind to block the retry.
 */
export const STATEFUL_REMOVAL_POLICY = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

export class ArchiveStorage extends Construct {
  readonly bucket: Bucket;
  readonly accessLogBucket: Bucket;
  readonly table: Table;
  /** The customer managed key of the archive, when one is configured. */
  readonly archiveKey?: IKey;

  constructor(scope: Construct, id: string, props: ArchiveStorageProps) {
    super(scope, id);
    this.archiveKey = archiveKey(this, props.archiveEncryption);

    // S3 server access logs cannot be delivered to an SSE-KMS bucket, so this one stays SSE-S3.
    this.accessLogBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.logRetentionDays) }],
      removalPolicy: STATEFUL_REMOVAL_POLICY,
    });

    this.bucket = new Bucket(this, 'Archive', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      ...(this.archiveKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: this.archiveKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      // Always on, so setting objectLockDays later is only an update of the default retention. (S3 now also
      // lets Object Lock be switched on for an existing versioned bucket; starting with it on needs no such step.)
      // Every write carries a Content-MD5, which S3 requires under a default retention.
      objectLockEnabled: true,
      objectLockDefaultRetention: objectLockRetention(props),
      lifecycleRules: [archiveLifecycle(props)],
      // Lets the archive browser (another origin) read input.json and result.json through presigned URLs.
      // CORS only lets a page read an answer it was given; it authorizes nothing. The bucket stays private
      // (public access blocked, TLS only) and every GET still needs a valid presigned signature, so this
      // opens nothing that was not already open to whoever holds such a URL.
      cors: [
        { allowedMethods: [HttpMethods.GET, HttpMethods.HEAD], allowedOrigins: ['*'], allowedHeaders: ['*'] },
      ],
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'archive/',
      removalPolicy: STATEFUL_REMOVAL_POLICY,
    });

    this.table = new Table(this, 'Jobs', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // A protected table refuses DeleteTable, so a rolled-back first create would be stuck with it: off until
      // the stack exists (tableDeletionProtection), while CloudFormation itself never deletes it after that.
      deletionProtection: props.tableDeletionProtection,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: STATEFUL_REMOVAL_POLICY,
    });
    for (const index of Object.values(TABLE_INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: {
          name: index.sortKey,
          type: index.sortKeyType === 'N' ? AttributeType.NUMBER : AttributeType.STRING,
        },
        projectionType: index.projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
      });
    }
  }
}

function archiveKey(scope: Construct, encryption: StackConfig['archiveEncryption']): IKey | undefined {
  if (encryption === 's3') return undefined;
  if (encryption === 'kms') {
    return new Key(scope, 'ArchiveKey', {
      description: 'Encrypts the job archive (results, inputs, artifacts)',
      enableKeyRotation: true,
      // Destroying this key would make every archived object unreadable.
      removalPolicy: STATEFUL_REMOVAL_POLICY,
    });
  }
  return Key.fromKeyArn(scope, 'ArchiveKey', encryption);
}

function objectLockRetention(props: ArchiveStorageProps): ObjectLockRetention | undefined {
  if (props.objectLockDays === 0) return undefined;
  const days = Duration.days(props.objectLockDays);
  return props.objectLockMode === 'COMPLIANCE'
    ? ObjectLockRetention.compliance(days)
    : ObjectLockRetention.governance(days);
}

function archiveLifecycle(props: ArchiveStorageProps): LifecycleRule {
  const transitions: Transition[] = [];
  if (props.infrequentAccessAfterDays > 0) {
    transitions.push({
      storageClass: StorageClass.INFREQUENT_ACCESS,
      transitionAfter: Duration.days(props.infrequentAccessAfterDays),
    });
  }
  // Glacier Instant Retrieval, not Flexible: archived results stay downloadable through presigned URLs.
  if (props.glacierAfterDays > 0) {
    transitions.push({
      storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL,
      transitionAfter: Duration.days(props.glacierAfterDays),
    });
  }
  return {
    id: 'colder-storage',
    transitions,
    noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
    abortIncompleteMultipartUploadAfter: Duration.days(2),
  };
}
