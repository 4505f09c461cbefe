// Storage: the archive bucket, its access-log bucket and the jobs table, as synthesized.
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../../functions/adapters/table-definition.ts';
import { ArchiveStorage, type ArchiveStorageProps } from '../../../lib/constructs/archive-storage.ts';
import { bareApp, defaultSynth, variantSynth } from '../support/synth.ts';
import { logicalId } from '../support/template-queries.ts';

const BLOCK_ALL = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

const { template } = defaultSynth();
const archiveId = logicalId(template, 'AWS::S3::Bucket', 'StorageArchive');
const logsId = logicalId(template, 'AWS::S3::Bucket', 'StorageAccessLogs');

/** Bucket policy statements of one bucket. */
function bucketPolicy(t: Template, bucketId: string): unknown[] {
  const policies = t.findResources('AWS::S3::BucketPolicy', {
    Properties: { Bucket: { Ref: bucketId } },
  });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
  );
}

describe('archive bucket', () => {
  it('is private, versioned, retained, logs access to the log bucket, and has Object Lock switched on', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: BLOCK_ALL,
        VersioningConfiguration: { Status: 'Enabled' },
        ObjectLockEnabled: true,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'archive/' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('lets the archive browser read through presigned URLs from its origin: GET and HEAD, nothing else', () => {
    const bucket = template.toJSON().Resources[archiveId];
    expect(bucket.Properties.CorsConfiguration).toEqual({
      CorsRules: [{ AllowedMethods: ['GET', 'HEAD'], AllowedOrigins: ['*'], AllowedHeaders: ['*'] }],
    });
    // CORS authorizes nothing: the bucket stays private and every read still needs a presigned signature.
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual(BLOCK_ALL);
    expect(JSON.stringify(bucketPolicy(template, archiveId))).not.toMatch(/"Effect":"Allow"/);
    const logs = template.toJSON().Resources[logsId];
    expect(logs.Properties.CorsConfiguration).toBeUndefined();
  });

  it('has no default retention unless objectLockDays is set', () => {
    const bucket = template.toJSON().Resources[archiveId];
    expect(bucket.Properties.ObjectLockConfiguration).toBeUndefined();
  });

  it('refuses plain HTTP and TLS below 1.2', () => {
    const statements = JSON.stringify(bucketPolicy(template, archiveId));
    expect(statements).toContain('"aws:SecureTransport":"false"');
    expect(statements).toContain('"s3:TlsVersion":1.2');
  });

  it('moves objects to Standard-IA, then Glacier Instant Retrieval; expires old versions and stale uploads', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'colder-storage',
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
            ],
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
          },
        ],
      },
    });
  });
});

describe('access-log bucket', () => {
  it('is private, SSL-only, SSE-S3 (log delivery cannot use KMS), expiring, retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: BLOCK_ALL,
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] },
        LoggingConfiguration: Match.absent(),
      }),
      DeletionPolicy: 'RetainExceptOnCreate',
    });
    const statements = JSON.stringify(bucketPolicy(template, logsId));
    expect(statements).toContain('"aws:SecureTransport":"false"');
    // Server access logs are delivered by the logging service through the bucket policy (no ACLs).
    expect(statements).toContain('logging.s3.amazonaws.com');
  });
});

/**
 * The sweeper reads whole jobs from `due`; the listing indexes hold keys only, so a job's later writes never
 * copy into them (one index write per job, at its create).
 */
const PROJECTIONS: Record<string, string> = { due: 'ALL', byDay: 'KEYS_ONLY', byEndpointDay: 'KEYS_ONLY' };

describe('jobs table', () => {
  it('uses the keys, indexes and TTL attribute of functions/adapters/table-definition.ts', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Object.values(TABLE_INDEXES).map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: PROJECTIONS[index.name] },
      })),
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: TABLE_INDEXES.due.sortKey, AttributeType: 'N' },
      ]),
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('is on-demand, point-in-time recoverable and retained, except by a failed first create', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // A protected table refuses the DeleteTable of a create rollback: protection is for after the create.
        DeletionProtectionEnabled: false,
      }),
      DeletionPolicy: 'RetainExceptOnCreate',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('is deletion protected once tableDeletionProtection is set', () => {
    variantSynth().template.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: true,
    });
  });
});

describe('options', () => {
  it('sets a default Object Lock retention and a customer managed key (rotated, retained) when configured', () => {
    const variant = variantSynth().template;
    variant.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageArchiveKey'), 'Arn'] },
            },
          },
        ],
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 60 }] })],
      },
    });
    variant.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        Description: Match.stringLikeRegexp('archive'),
      }),
      DeletionPolicy: 'RetainExceptOnCreate',
    });
  });

  it('uses an existing KMS key given by ARN without creating one', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const t = storageOnly({ archiveEncryption: keyArn, objectLockDays: 30 });
    t.resourceCountIs('AWS::KMS::Key', 0);
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
          },
        ],
      },
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
      },
    });
  });

  it('leaves out transitions set to 0 but keeps version and upload hygiene', () => {
    const t = storageOnly({ infrequentAccessAfterDays: 0, glacierAfterDays: 0 });
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Transitions: Match.absent(),
            NoncurrentVersionExpiration: { NoncurrentDays: 90 },
          }),
        ],
      },
    });
  });
});

/** The storage construct alone (with the feature flags of cdk.json): cheap to synthesize for option combinations. */
function storageOnly(overrides: Partial<ArchiveStorageProps>): Template {
  const stack = new Stack(bareApp(), 'StorageOnly');
  new ArchiveStorage(stack, 'Storage', {
    archiveEncryption: 's3',
    objectLockDays: 0,
    objectLockMode: 'GOVERNANCE',
    infrequentAccessAfterDays: 30,
    glacierAfterDays: 90,
    noncurrentVersionDays: 90,
    logRetentionDays: 365,
    tableDeletionProtection: false,
    ...overrides,
  });
  return Template.fromStack(stack);
}
