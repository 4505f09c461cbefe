// What an AWS API request asks IAM for: the caller's access key, the actions, resource ARNs and condition keys.
import type { IncomingHttpHeaders } from 'node:http';

export type AwsService = 'dynamodb' | 's3' | 'secretsmanager' | 'events';

/** One authorization IAM makes for a request (a request can need several: PutObject with tags needs two). */
export interface Authorization {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

/** A request seen at the HTTP layer, with what it needed from IAM. */
export interface RecordedCall {
  /** The function whose access key signed it; `unknown` for a key no function was given. */
  caller: string;
  accessKeyId: string;
  service: AwsService;
  /** The API operation (GetItem, PutObject, CreateMultipartUpload, GetSecretValue, PutEvents...). */
  operation: string;
  authorizations: Authorization[];
  /** Signed in the query string (a presigned URL) rather than the Authorization header. */
  presigned: boolean;
  /** The store's HTTP status. */
  status: number;
}

export interface AccountScope {
  region: string;
  accountId: string;
  /** The full ARN of a secret given by name, partial ARN or ARN. */
  secretArn(secretId: string): string;
}

export class UnclassifiedCallError extends Error {
  override name = 'UnclassifiedCallError';
}

/** The access key id of a SigV4 request, from the Authorization header or the presigned query. */
export function accessKeyOf(
  headers: IncomingHttpHeaders,
  url: URL,
): { accessKeyId: string; presigned: boolean } {
  const header = /Credential=([^/,\s]+)\//.exec(String(headers.authorization ?? ''));
  if (header?.[1]) return { accessKeyId: header[1], presigned: false };
  const query = url.searchParams.get('X-Amz-Credential')?.split('/')[0];
  if (query) return { accessKeyId: query, presigned: true };
  return { accessKeyId: '', presigned: false };
}

/** Keys every call over the SDK's HTTPS endpoints carries in AWS (locally the wire is plain HTTP to loopback). */
const transport = (): Record<string, string> => ({ 'aws:SecureTransport': 'true' });

interface JsonRequest {
  target: string;
  body: Record<string, unknown>;
}

function jsonRequest(headers: IncomingHttpHeaders, body: Buffer): JsonRequest {
  const target = String(headers['x-amz-target'] ?? '');
  try {
    return { target, body: JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown> };
  } catch {
    throw new UnclassifiedCallError(`${target}: body is not JSON`);
  }
}

const ITEM_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
const TABLE_OPERATIONS = new Set([
  ...ITEM_OPERATIONS,
  'Query',
  'Scan',
  'DescribeTable',
  'DescribeTimeToLive',
]);

/** DynamoDB JSON 1.0: `DynamoDB_20120810.GetItem` on `table/NAME`, Query and Scan on `table/NAME/index/X`. */
export function dynamoAuthorizations(
  headers: IncomingHttpHeaders,
  body: Buffer,
  scope: AccountScope,
): { operation: string; authorizations: Authorization[] } {
  const { target, body: input } = jsonRequest(headers, body);
  const operation = target.replace(/^DynamoDB_\d+\./, '');
  const table = (name: unknown, index?: unknown) =>
    `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/${String(name)}${index ? `/index/${String(index)}` : ''}`;
  const context = (request: Record<string, unknown>) => {
    const keys: Record<string, string | string[]> = transport();
    const key = (request.Key ?? request.Item) as Record<string, { S?: string }> | undefined;
    if (key?.pk?.S !== undefined) keys['dynamodb:LeadingKeys'] = [key.pk.S];
    if (typeof request.ReturnValues === 'string') keys['dynamodb:ReturnValues'] = request.ReturnValues;
    if (typeof request.Select === 'string') keys['dynamodb:Select'] = request.Select;
    return keys;
  };
  if (TABLE_OPERATIONS.has(operation)) {
    return {
      operation,
      authorizations: [
        {
          action: `dynamodb:${operation}`,
          resource: table(input.TableName, input.IndexName),
          context: context(input),
        },
      ],
    };
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const items = (input.TransactItems ?? []) as Record<string, Record<string, unknown>>[];
    const actionOf: Record<string, string> = {
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      ConditionCheck: 'ConditionCheckItem',
      Get: 'GetItem',
    };
    return {
      operation,
      authorizations: items.flatMap((item) =>
        Object.entries(item).map(([kind, request]) => ({
          action: `dynamodb:${actionOf[kind] ?? kind}`,
          resource: table(request.TableName),
          context: context(request),
        })),
      ),
    };
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const tables = Object.keys((input.RequestItems ?? {}) as Record<string, unknown>);
    return {
      operation,
      authorizations: tables.map((name) => ({
        action: `dynamodb:${operation}`,
        resource: table(name),
        context: transport(),
      })),
    };
  }
  throw new UnclassifiedCallError(`DynamoDB ${target || '(no target)'}`);
}

/** Object-level S3 calls by method and sub-resource, as the S3 authorization reference lists them. */
function s3ObjectOperation(
  method: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
): [string, string] {
  const has = (name: string) => query.has(name);
  const versioned = has('versionId');
  if (method === 'PUT' && has('partNumber') && has('uploadId'))
    return headers['x-amz-copy-source'] ? ['UploadPartCopy', 's3:PutObject'] : ['UploadPart', 's3:PutObject'];
  if (method === 'PUT' && has('tagging')) return ['PutObjectTagging', 's3:PutObjectTagging'];
  if (method === 'PUT' && has('retention')) return ['PutObjectRetention', 's3:PutObjectRetention'];
  if (method === 'PUT' && has('legal-hold')) return ['PutObjectLegalHold', 's3:PutObjectLegalHold'];
  if (method === 'PUT' && has('acl')) return ['PutObjectAcl', 's3:PutObjectAcl'];
  if (method === 'PUT')
    return headers['x-amz-copy-source'] ? ['CopyObject', 's3:PutObject'] : ['PutObject', 's3:PutObject'];
  if (method === 'POST' && has('uploads')) return ['CreateMultipartUpload', 's3:PutObject'];
  if (method === 'POST' && has('uploadId')) return ['CompleteMultipartUpload', 's3:PutObject'];
  if (method === 'DELETE' && has('uploadId')) return ['AbortMultipartUpload', 's3:AbortMultipartUpload'];
  if (method === 'DELETE') return ['DeleteObject', versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject'];
  if (method === 'GET' && has('uploadId')) return ['ListParts', 's3:ListMultipartUploadParts'];
  if (method === 'GET' && has('tagging')) return ['GetObjectTagging', 's3:GetObjectTagging'];
  if (method === 'GET' && has('retention')) return ['GetObjectRetention', 's3:GetObjectRetention'];
  if (method === 'GET' && has('legal-hold')) return ['GetObjectLegalHold', 's3:GetObjectLegalHold'];
  if (method === 'GET' && has('attributes')) return ['GetObjectAttributes', 's3:GetObjectAttributes'];
  if (method === 'GET' || method === 'HEAD')
    return [
      method === 'GET' ? 'GetObject' : 'HeadObject',
      versioned ? 's3:GetObjectVersion' : 's3:GetObject',
    ];
  throw new UnclassifiedCallError(`S3 ${method} on an object`);
}

function s3BucketOperation(method: string, query: URLSearchParams): [string, string] {
  if (method === 'GET' && query.has('uploads'))
    return ['ListMultipartUploads', 's3:ListBucketMultipartUploads'];
  if (method === 'GET' && query.has('versions')) return ['ListObjectVersions', 's3:ListBucketVersions'];
  if (method === 'GET' && query.has('cors')) return ['GetBucketCors', 's3:GetBucketCORS'];
  if (method === 'PUT' && query.has('cors')) return ['PutBucketCors', 's3:PutBucketCORS'];
  if (method === 'GET' && query.has('location')) return ['GetBucketLocation', 's3:GetBucketLocation'];
  if (method === 'GET' || method === 'HEAD')
    return [method === 'GET' ? 'ListObjects' : 'HeadBucket', 's3:ListBucket'];
  if (method === 'PUT') return ['CreateBucket', 's3:CreateBucket'];
  if (method === 'DELETE') return ['DeleteBucket', 's3:DeleteBucket'];
  throw new UnclassifiedCallError(`S3 ${method} on a bucket`);
}

/** S3 REST (path-style): method, path and query to the IAM action on `arn:aws:s3:::BUCKET[/KEY]`, with its keys. */
export function s3Authorizations(
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  presigned: boolean,
): { operation: string; authorizations: Authorization[] } {
  const [, bucket = '', ...keyParts] = url.pathname.split('/');
  const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
  if (bucket === '') throw new UnclassifiedCallError(`S3 ${method} without a bucket`);
  const context: Record<string, string | string[]> = {
    ...transport(),
    's3:TlsVersion': '1.3',
    's3:authType': presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
  };
  const header = (name: string) => headers[name] as string | undefined;
  for (const [name, keyName] of [
    ['x-amz-server-side-encryption', 's3:x-amz-server-side-encryption'],
    ['x-amz-server-side-encryption-aws-kms-key-id', 's3:x-amz-server-side-encryption-aws-kms-key-id'],
    ['x-amz-object-lock-mode', 's3:object-lock-mode'],
    ['x-amz-object-lock-retain-until-date', 's3:object-lock-retain-until-date'],
    ['x-amz-object-lock-legal-hold', 's3:object-lock-legal-hold'],
    ['x-amz-acl', 's3:x-amz-acl'],
  ] as const) {
    const value = header(name);
    if (value !== undefined) context[keyName] = value;
  }
  if (key === '') {
    const [operation, action] = s3BucketOperation(method, url.searchParams);
    const prefix = url.searchParams.get('prefix');
    if (prefix !== null) context['s3:prefix'] = prefix;
    return { operation, authorizations: [{ action, resource: `arn:aws:s3:::${bucket}`, context }] };
  }
  const [operation, action] = s3ObjectOperation(method, url.searchParams, headers);
  const resource = `arn:aws:s3:::${bucket}/${key}`;
  const authorizations: Authorization[] = [{ action, resource, context }];
  // Writing an object with tags, a retention or a legal hold needs those permissions as well.
  const writes = ['PutObject', 'CreateMultipartUpload', 'CopyObject'].includes(operation);
  if (writes && header('x-amz-tagging') !== undefined)
    authorizations.push({ action: 's3:PutObjectTagging', resource, context });
  if (writes && header('x-amz-object-lock-mode') !== undefined)
    authorizations.push({ action: 's3:PutObjectRetention', resource, context });
  if (writes && header('x-amz-object-lock-legal-hold') !== undefined)
    authorizations.push({ action: 's3:PutObjectLegalHold', resource, context });
  const copySource = header('x-amz-copy-source');
  if (copySource !== undefined) {
    const source = decodeURIComponent(copySource.replace(/^\//, '').split('?')[0] ?? '');
    authorizations.push({ action: 's3:GetObject', resource: `arn:aws:s3:::${source}`, context });
  }
  return { operation, authorizations };
}

/** Secrets Manager JSON 1.1: `secretsmanager.GetSecretValue` on the secret's full ARN. */
export function secretsAuthorizations(
  headers: IncomingHttpHeaders,
  body: Buffer,
  scope: AccountScope,
): { operation: string; authorizations: Authorization[] } {
  const { target, body: input } = jsonRequest(headers, body);
  const operation = target.replace(/^secretsmanager\./, '');
  if (typeof input.SecretId !== 'string') throw new UnclassifiedCallError(`Secrets Manager ${target}`);
  const resource = scope.secretArn(input.SecretId);
  const context: Record<string, string | string[]> = { ...transport(), 'secretsmanager:SecretId': resource };
  if (typeof input.VersionStage === 'string') context['secretsmanager:VersionStage'] = input.VersionStage;
  return { operation, authorizations: [{ action: `secretsmanager:${operation}`, resource, context }] };
}

/** EventBridge JSON 1.1: `AWSEvents.PutEvents`, one authorization per entry on its bus, with source and detail-type. */
export function eventsAuthorizations(
  headers: IncomingHttpHeaders,
  body: Buffer,
  scope: AccountScope,
): { operation: string; authorizations: Authorization[] } {
  const { target, body: input } = jsonRequest(headers, body);
  const operation = target.replace(/^AWSEvents\./, '');
  if (operation !== 'PutEvents') throw new UnclassifiedCallError(`EventBridge ${target}`);
  const entries = (input.Entries ?? []) as Record<string, unknown>[];
  return {
    operation,
    authorizations: entries.map((entry) => {
      const bus = String(entry.EventBusName ?? 'default');
      return {
        action: 'events:PutEvents',
        resource: bus.startsWith('arn:')
          ? bus
          : `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${bus}`,
        context: {
          ...transport(),
          'events:source': String(entry.Source ?? ''),
          'events:detail-type': String(entry.DetailType ?? ''),
        },
      };
    }),
  };
}
