// Parts over the jobs table and the archive bucket: DynamoDB and S3 clients, made on first use.
import { getDynamoDocumentClient, getS3Client } from '../adapters/aws-clients.ts';
import { DynamoJobRepository } from '../adapters/dynamo-job-repository.ts';
import { DynamoSweepLease } from '../adapters/dynamo-sweep-lease.ts';
import { S3ArchiveStore } from '../adapters/s3-archive-store.ts';
import type { PartContext } from './function-runtime.ts';

export const dynamoJobs = ({ config }: PartContext) =>
  new DynamoJobRepository({
    client: getDynamoDocumentClient(),
    tableName: config.JOBS_TABLE,
    dueShards: config.DUE_SHARDS,
  });

export const s3Archive = ({ config }: PartContext) =>
  new S3ArchiveStore({ client: getS3Client(), bucket: config.ARCHIVE_BUCKET });

/** The sweeper's single-flight lease: an item in the jobs table (docs/architecture.md "The deployed shape"). */
export const dynamoSweepLease = ({ config }: PartContext) =>
  new DynamoSweepLease({ client: getDynamoDocumentClient(), tableName: config.JOBS_TABLE });
