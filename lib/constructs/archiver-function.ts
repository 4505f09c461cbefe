// Base Lambda construct: Node 22 on arm64, a local esbuild ESM bundle, its own role and log group, bind* helpers.
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, ViaServicePrincipal } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { z } from 'zod';
import { TABLE_INDEXES } from '../../functions/adapters/table-definition.ts';
import type { envSchema } from '../../functions/config.ts';
import { FUNCTION_BUNDLE } from '../bundling.ts';

export { ESM_REQUIRE_BANNER } from '../bundling.ts';

/** Environment variable names the runtime reads (functions/config.ts), so a typo fails the type check. */
export type FunctionEnvName = keyof z.input<typeof envSchema> | 'POWERTOOLS_SERVICE_NAME';
export type FunctionEnvironment = Partial<Record<FunctionEnvName, string>>;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem';
type IndexName = keyof typeof TABLE_INDEXES;

/** What one function may do on the jobs table: item calls, reading audit trails (Query), and which indexes. */
export interface JobsTableAccess {
  readonly items: readonly TableAction[];
  /** Query on the table itself: reading a job's audit trail (its partition). */
  readonly trails: boolean;
  readonly indexes: readonly IndexName[];
}

/**
 * Each function's table access, from the repository calls its services make (functions/core). No Scan (the
 * design queries, never scans), no batch writes or transactions (the repository uses none), no streams; the
 * one batch call is the listing's BatchGetItem (its indexes hold keys only). The
 * IAM replay of the as-deployed suite proves every recorded call is allowed; the paths it cannot reach are
 * named here.
 */
export const TABLE_ACCESS = {
  /**
   * Records and claims; releases an Idempotency-Key after a certain refusal; reads a trail to resume an unsent
   * job. Never BatchWriteItem: its permission would also delete audit lines.
   */
  submit: {
    items: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    trails: true,
    indexes: [],
  },
  /** Captures and audit lines only: it never deletes, lists or reads a trail. */
  webhook: {
    items: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    trails: false,
    indexes: [],
  },
  /**
   * Claims and sends queued jobs, takes start times from the rate item and places from the queue counters
   * (Get/Put/Update), releases the key of a job the upstream refused; never lists or reads a trail.
   */
  submitter: {
    items: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    trails: false,
    indexes: [],
  },
  /** Due jobs; its sweep lease (an item); releases the key of a job never sent; reads the trail of an unannounced job. */
  sweeper: {
    items: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    trails: true,
    indexes: ['due'],
  },
  /**
   * Reads and listings (the KEYS_ONLY listing indexes name jobs, BatchGetItem reads them); audit lines for the
   * download links it issues (an item and a tally), never a delete.
   */
  results: {
    items: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    trails: true,
    indexes: ['byDay', 'byEndpointDay'],
  },
} as const satisfies Record<string, JobsTableAccess>;

/** An API-key secret as a function binds it: the secret, the id passed to GetSecretValue, its KMS key if any. */
export interface ApiKeySecretBinding {
  readonly secret: ISecret;
  readonly secretId: string;
  /** Customer managed key the (existing) secret is encrypted with; undefined for the AWS managed key. */
  readonly kmsKeyArn?: string;
}

/** Every archive object lives under this prefix (jobs/{yyyy}/{mm}/{dd}/{jobId}/...). */
export const ARCHIVE_PREFIX = 'jobs/';

export interface ArchiverFunctionProps {
  /** Entry file relative to functions/, e.g. 'webhook/handler.ts'; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  /** Settings shared by every function; resource names and secret ids come from the bind* helpers. */
  readonly environment: FunctionEnvironment;
  readonly reservedConcurrentExecutions?: number;
  /** Asynchronous invocations (the schedule): retries and how long an event may wait. */
  readonly retryAttempts?: number;
  readonly maxEventAge?: Duration;
}

/** A NodejsFunction with this project's defaults and helpers that grant access and set the env var together. */
export class ArchiverFunction extends NodejsFunction {
  readonly functionLogGroup: LogGroup;
  private archiveGrant?: 'read' | 'write';
  private inputReads = false;

  constructor(scope: Construct, id: string, props: ArchiverFunctionProps) {
    // Created before super() so the function never gets the AWS managed basic-execution policy (log writes
    // to every log group in the account) and never writes to a log group without retention.
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${id} function: exactly the access its service needs`,
    });
    super(scope, id, {
      entry: `${PROJECT_ROOT}functions/${props.entry}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
      environment: definedOnly(props.environment),
      bundling: {
        format: OutputFormat.ESM,
        target: FUNCTION_BUNDLE.target,
        minify: FUNCTION_BUNDLE.minify,
        // No source map, and no --enable-source-maps: it makes every init and every stack trace pay.
        sourceMap: false,
        mainFields: [...FUNCTION_BUNDLE.mainFields],
        banner: FUNCTION_BUNDLE.banner,
        esbuildArgs: {
          '--alias': Object.entries(FUNCTION_BUNDLE.alias).map(([from, to]) => `${from}=${to}`),
        },
        // The SDK and @smithy are bundled at the versions of package-lock.json, never the runtime's own copy.
        bundleAwsSDK: true,
        externalModules: [],
        // Never silently fall back to Docker: bundling must work on machines without it.
        forceDockerBundling: false,
      },
    });
    logGroup.grantWrite(role);
    this.functionLogGroup = logGroup;
  }

  /** Exactly `access` on the jobs table and the named indexes (never `index/*`); sets JOBS_TABLE. */
  bindJobsTable(table: ITable, access: JobsTableAccess): this {
    const actions = [...access.items, ...(access.trails ? (['dynamodb:Query'] as const) : [])];
    Grant.addToPrincipal({ grantee: this, actions, resourceArns: [table.tableArn] });
    if (access.indexes.length > 0) {
      Grant.addToPrincipal({
        grantee: this,
        actions: ['dynamodb:Query'],
        resourceArns: access.indexes.map((index) => `${table.tableArn}/index/${TABLE_INDEXES[index].name}`),
      });
    }
    this.setEnv('JOBS_TABLE', table.tableName);
    return this;
  }

  /**
   * Object access under jobs/: `write` is PutObject (multipart included) and nothing else, `read` is GetObject
   * (presigned URLs are signed with this role); never List, Delete or the Object Lock settings. `readInputs`
   * adds GetObject on the jobs' input.json to `write` (the sweeper sends a job left unsent, core/submit.ts
   * sendRecorded). Sets ARCHIVE_BUCKET.
   */
  bindArchive(bucket: IBucket, access: 'read' | 'write', key?: IKey, { readInputs = false } = {}): this {
    const resourceArns = [bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)];
    if (access === 'write') {
      Grant.addToPrincipal({
        grantee: this,
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resourceArns,
      });
      this.inputReads = readInputs;
      if (readInputs)
        Grant.addToPrincipal({
          grantee: this,
          actions: ['s3:GetObject'],
          resourceArns: [bucket.arnForObjects(`${ARCHIVE_PREFIX}*/input.json`)],
        });
      // SSE-KMS: a data key per object; multipart uploads also decrypt it to add parts.
      key?.grant(this, 'kms:GenerateDataKey', 'kms:Decrypt');
    } else {
      Grant.addToPrincipal({ grantee: this, actions: ['s3:GetObject'], resourceArns });
      key?.grant(this, 'kms:Decrypt');
    }
    this.archiveGrant = access;
    this.setEnv('ARCHIVE_BUCKET', bucket.bucketName);
    return this;
  }

  /** True when bindArchive also granted GetObject on the jobs' input.json (`readInputs`). */
  get readsInputs(): boolean {
    return this.inputReads;
  }

  /** What bindArchive granted; undefined for a function that never touches the archive. */
  get archiveAccess(): 'read' | 'write' | undefined {
    return this.archiveGrant;
  }

  /** PutEvents on the job-events bus only; sets EVENT_BUS_NAME. */
  bindEventBus(bus: IEventBus): this {
    bus.grantPutEventsTo(this);
    this.setEnv('EVENT_BUS_NAME', bus.eventBusName);
    return this;
  }

  /**
   * SendMessage on the submit queue only (SendMessageBatch is authorized by it), never receive or delete:
   * consuming is the event source's grant to the submitter alone. Sets SUBMIT_QUEUE_URL.
   */
  bindSubmitQueue(queue: IQueue): this {
    Grant.addToPrincipal({ grantee: this, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
    queue.encryptionMasterKey?.grant(this, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.setEnv('SUBMIT_QUEUE_URL', queue.queueUrl);
    return this;
  }

  /** Reads the webhook HMAC secret at run time (never a plain env value); sets WEBHOOK_SECRET_ID. */
  bindWebhookSecret(secret: ISecret): this {
    this.grantSecretValue(secret);
    this.setEnv('WEBHOOK_SECRET_ID', secret.secretArn);
    return this;
  }

  /**
   * Reads each endpoint's API-key secret, and decrypts it through Secrets Manager when it is under a customer
   * managed key; sets UPSTREAM_API_KEY_SECRETS (JSON endpoint name → secret id).
   */
  bindApiKeySecrets(secrets: Readonly<Record<string, ApiKeySecretBinding>>): this {
    const ids: Record<string, string> = {};
    for (const [name, { secret, secretId, kmsKeyArn }] of Object.entries(secrets)) {
      this.grantSecretValue(secret);
      if (kmsKeyArn) {
        // Only as Secrets Manager's caller, in the key's own region (a secret and its key share one).
        const region = kmsKeyArn.split(':')[3];
        Grant.addToPrincipal({
          grantee: this,
          actions: ['kms:Decrypt'],
          resourceArns: [kmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
        });
      }
      ids[name] = secretId;
    }
    this.setEnv('UPSTREAM_API_KEY_SECRETS', Stack.of(this).toJsonString(ids));
    return this;
  }

  /**
   * GetSecretValue on one secret, the only Secrets Manager call the runtime makes (CDK's grantRead adds
   * DescribeSecret too). A secret imported by name has a partial ARN: its random suffix is matched, as grantRead
   * does. A secret under its own KMS key is decrypted only through Secrets Manager.
   */
  private grantSecretValue(secret: ISecret): void {
    Grant.addToPrincipal({
      grantee: this,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    });
    secret.encryptionKey?.grantDecrypt(
      new ViaServicePrincipal(`secretsmanager.${Stack.of(this).region}.amazonaws.com`, this.grantPrincipal),
    );
  }

  private setEnv(name: FunctionEnvName, value: string): void {
    this.addEnvironment(name, value);
  }
}

function definedOnly(env: FunctionEnvironment): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}
