// The five functions: runtime settings, environment contract with functions/config.ts, and least privilege.
import { describe, expect, it } from 'vitest';
import { envSchema, parseConfig } from '../../../functions/config.ts';
import { LAMBDA_SYNC_PAYLOAD_BYTES, MAX_SUBMIT_BYTES } from '../../../lib/function-environment.ts';
import { API_INTEGRATION_TIMEOUT_SECONDS, EXAMPLE_ENDPOINTS } from '../../../lib/stack-config.ts';
import { defaultSynth, synthesize, VARIANT_CONTEXT, variantSynth } from '../support/synth.ts';
import {
  environmentOf,
  FUNCTION_IDS,
  type FunctionId,
  flat,
  grantsOf,
  lambdaFunction,
  logicalId,
  resourcesOfType,
  roleOf,
  SERVICE_FUNCTION_IDS,
} from '../support/template-queries.ts';

const { template } = defaultSynth();
const ids = {
  table: logicalId(template, 'AWS::DynamoDB::Table', 'StorageJobs'),
  bucket: logicalId(template, 'AWS::S3::Bucket', 'StorageArchive'),
  bus: logicalId(template, 'AWS::Events::EventBus', 'EventsBus'),
  apiKey: logicalId(template, 'AWS::SecretsManager::Secret', 'SecretsApiKeydefault'),
  webhookSecret: logicalId(template, 'AWS::SecretsManager::Secret', 'SecretsWebhookHmacKey'),
  api: logicalId(template, 'AWS::ApiGatewayV2::Api', 'ApiHttpApi'),
};
const table = `<${ids.table}.Arn>`;
const archiveObjects = `<${ids.bucket}.Arn>/jobs/*`;

const SECRET_READ = ['secretsmanager:GetSecretValue'];
const ITEMS = {
  Submit: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  Submitter: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  Webhook: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  Sweeper: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  Results: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
} as const;
const index = (name: string) => `${table}/index/${name}`;
/** Query on the table reads audit trails; on an index, lists (Results) or finds due jobs (Sweeper). */
const QUERY = {
  Submit: [table],
  Submitter: [],
  Webhook: [],
  Sweeper: [table, index('due')],
  Results: [table, index('byDay'), index('byEndpointDay')].sort(),
} as const;

const submitQueue = `<${logicalId(template, 'AWS::SQS::Queue', 'SubmitQueue')}.Arn>`;
/** Submit, the submitter (what it defers) and the sweeper (lost messages) send; only the submitter consumes. */
function queueGrants(id: FunctionId): Record<string, string[]> {
  if (id === 'Submit' || id === 'Sweeper') return { 'sqs:SendMessage': [submitQueue] };
  if (id !== 'Submitter') return {};
  const consume = [
    'sqs:ReceiveMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueUrl',
    'sqs:DeleteMessage',
  ];
  return Object.fromEntries(
    [...consume, 'sqs:GetQueueAttributes', 'sqs:SendMessage'].map((a) => [a, [submitQueue]]),
  );
}

/** Exactly the grants each service needs: every action, and the resources it applies to. */
function expectedGrants(id: FunctionId): Record<string, string[]> {
  const logGroup = [`<${logicalId(template, 'AWS::Logs::LogGroup', `Functions${id}LogGroup`)}.Arn>`];
  const logs = { 'logs:CreateLogStream': logGroup, 'logs:PutLogEvents': logGroup };
  // The page's function serves files bundled into its code: its own logs and nothing else.
  if (id === 'Browser') return logs;
  const items = Object.fromEntries(ITEMS[id].map((a) => [a, [table]]));
  const query: Record<string, string[]> = QUERY[id].length > 0 ? { 'dynamodb:Query': [...QUERY[id]] } : {};
  if (id === 'Results') return { ...logs, ...items, ...query, 's3:GetObject': [archiveObjects] };
  const secrets = [`<${ids.apiKey}>`, `<${ids.webhookSecret}>`].sort();
  // The sweeper reads back only inputs, to send a job its requests left unsent (core/submit.ts sendRecorded).
  const inputReads: Record<string, string[]> =
    id === 'Sweeper' ? { 's3:GetObject': [`<${ids.bucket}.Arn>/jobs/*/input.json`] } : {};
  return {
    ...inputReads,
    ...logs,
    ...queueGrants(id),
    ...items,
    ...query,
    's3:PutObject': [archiveObjects],
    's3:AbortMultipartUpload': [archiveObjects],
    'events:PutEvents': [`<${ids.bus}.Arn>`],
    ...Object.fromEntries(SECRET_READ.map((a) => [a, secrets])),
  };
}

describe('runtime settings', () => {
  it.each(FUNCTION_IDS)('%s runs Node 22 on arm64 from an ESM bundle, logging to its own log group', (id) => {
    const { resource } = lambdaFunction(template, id);
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: {
        LogGroup: { Ref: logicalId(template, 'AWS::Logs::LogGroup', `Functions${id}LogGroup`) },
      },
    });
    // Source maps make every init and stack trace pay; nothing loads them (docs/architecture.md).
    expect(environmentOf(template, id).NODE_OPTIONS).toBeUndefined();
  });

  it.each([
    ['Submit', 1024, 29],
    ['Submitter', 1024, 60],
    ['Webhook', 1024, 10],
    ['Sweeper', 1024, 300],
    ['Results', 512, 10],
    ['Browser', 256, 5],
  ] as const)('%s has %i MB and %i s', (id, memory, timeout) => {
    expect(lambdaFunction(template, id).resource.Properties).toMatchObject({
      MemorySize: memory,
      Timeout: timeout,
    });
  });

  it('keeps the webhook inside the ~10 s the upstream waits for an answer', () => {
    expect(lambdaFunction(template, 'Webhook').resource.Properties.Timeout).toBeLessThanOrEqual(10);
  });

  it('ends submit before API Gateway does, with the runsync wait leaving room for the work', () => {
    const timeout = lambdaFunction(template, 'Submit').resource.Properties.Timeout as number;
    expect(timeout).toBeLessThan(API_INTEGRATION_TIMEOUT_SECONDS);
    const waitMs = Number(environmentOf(template, 'Submit').RUNSYNC_WAIT_MS);
    expect(waitMs).toBe(20_000);
    // Record, archive writes and the answer after the wait: at least 7 s, whatever runsyncWaitSeconds says.
    expect(timeout * 1000 - waitMs).toBeGreaterThanOrEqual(7_000);
    expect(() => synthesize({ runsyncWaitSeconds: 25 })).toThrow(/runsyncWaitSeconds/);
  });

  it('accepts submit bodies only as large as a Lambda event can carry once base64-encoded', () => {
    for (const id of ['Submit', 'Webhook', 'Sweeper', 'Results'] as const) {
      expect(Number(environmentOf(template, id).MAX_SUBMIT_BYTES)).toBe(MAX_SUBMIT_BYTES);
    }
    const base64 = Math.ceil(MAX_SUBMIT_BYTES / 3) * 4;
    // Headers, request context and JSON framing of an HTTP API v2 event: well under 256 KB in practice.
    expect(base64 + 256 * 1024).toBeLessThan(LAMBDA_SYNC_PAYLOAD_BYTES);
  });

  it('reserves no sweeper concurrency unless the config asks, and never replays a missed tick', () => {
    const sweeper = lambdaFunction(template, 'Sweeper');
    expect(sweeper.resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const reserved = synthesize({ stackName: 'Reserved', sweeperReservedConcurrency: 2 }).template;
    expect(lambdaFunction(reserved, 'Sweeper').resource.Properties.ReservedConcurrentExecutions).toBe(2);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: sweeper.logicalId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
    for (const id of ['Submit', 'Webhook', 'Results', 'Browser'] as const) {
      expect(lambdaFunction(template, id).resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it.each(FUNCTION_IDS)('%s log group keeps logs for logRetentionDays', (id) => {
    const logGroupId = logicalId(template, 'AWS::Logs::LogGroup', `Functions${id}LogGroup`);
    expect(resourcesOfType(template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toBe(
      365,
    );
  });
});

describe('environment: exactly the names functions/config.ts reads', () => {
  const known = new Set([...Object.keys(envSchema.shape), 'POWERTOOLS_SERVICE_NAME']);

  it.each(FUNCTION_IDS)('%s sets no variable the runtime does not know', (id) => {
    const unknown = Object.keys(environmentOf(template, id)).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it.each(SERVICE_FUNCTION_IDS)('%s environment parses with the runtime schema once deployed', (id) => {
    const config = parseConfig(deployedEnvironment(environmentOf(template, id)));
    expect(config.RETENTION_MS).toBe(30 * 60_000);
    expect(config.defaultEndpoint).toBe('default');
    expect(config.UPSTREAM_ENDPOINTS).toEqual(EXAMPLE_ENDPOINTS);
    expect(config.METRICS_NAMESPACE).toBe('SubmodelArchiver');
  });

  it('passes the API URL (the API endpoint, no cycle) as PUBLIC_BASE_URL', () => {
    for (const id of FUNCTION_IDS) {
      expect(environmentOf(template, id).PUBLIC_BASE_URL).toEqual({ 'Fn::GetAtt': [ids.api, 'ApiEndpoint'] });
    }
  });

  it('passes resource names, never secret values', () => {
    const submit = environmentOf(template, 'Submit');
    expect(submit.JOBS_TABLE).toEqual({ Ref: ids.table });
    expect(submit.ARCHIVE_BUCKET).toEqual({ Ref: ids.bucket });
    expect(submit.EVENT_BUS_NAME).toEqual({ Ref: ids.bus });
    expect(submit.WEBHOOK_SECRET_ID).toEqual({ Ref: ids.webhookSecret });
    expect(flat(submit.UPSTREAM_API_KEY_SECRETS)).toBe(`{"default":"<${ids.apiKey}>"}`);
    for (const id of FUNCTION_IDS) {
      const env = environmentOf(template, id);
      expect(env.WEBHOOK_SECRET).toBeUndefined();
      expect(env.UPSTREAM_API_KEYS).toBeUndefined();
    }
  });

  it('gives secrets, the bus and the webhook key only to the functions that use them', () => {
    const results = environmentOf(template, 'Results');
    expect(results.WEBHOOK_SECRET_ID).toBeUndefined();
    expect(results.UPSTREAM_API_KEY_SECRETS).toBeUndefined();
    expect(results.EVENT_BUS_NAME).toBeUndefined();
  });

  it('gives the page function the shared settings only: no table, bucket, bus or secret', () => {
    const browser = environmentOf(template, 'Browser');
    const shared = Object.keys(environmentOf(template, 'Results')).filter(
      (name) => name !== 'JOBS_TABLE' && name !== 'ARCHIVE_BUCKET',
    );
    expect(Object.keys(browser).sort()).toEqual(shared.sort());
  });

  it('carries the configured options: custom domain, existing secret ids, default endpoint, look interval', () => {
    const variant = variantSynth().template;
    const env = environmentOf(variant, 'Webhook');
    expect(env.PUBLIC_BASE_URL).toBe('https://archiver.example.com');
    expect(env.DEFAULT_ENDPOINT).toBe('sdxl');
    expect(env.WEBHOOK_VERIFICATION).toBe('background');
    expect(env.STRICT_WEBHOOKS).toBeUndefined();
    // Only the endpoint that differs from the stack's policy is listed.
    expect(JSON.parse(flat(env.WEBHOOK_VERIFICATION_BY_ENDPOINT))).toEqual({ llm: 'trust' });
    expect(env.LOOK_INTERVAL_MS).toBe('300000');
    const secretIds = JSON.parse(flat(env.UPSTREAM_API_KEY_SECRETS)) as Record<string, string>;
    expect(secretIds.sdxl).toBe('prod/runpod/sdxl');
    expect(secretIds.llm).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:runpod-llm-AbCdEf');
    expect(secretIds.default).toMatch(/^<SecretsApiKeydefault/);
    const config = parseConfig(deployedEnvironment(env));
    expect(Object.keys(config.UPSTREAM_ENDPOINTS)).toEqual(['default', 'sdxl', 'llm']);
  });
});

describe('least privilege', () => {
  it.each(FUNCTION_IDS)('%s has exactly the grants its service needs', (id) => {
    expect(Object.fromEntries(grantsOf(template, id))).toEqual(sorted(expectedGrants(id)));
  });

  it.each(FUNCTION_IDS)('%s has no AWS managed policy and no wildcard action', (id) => {
    const { managedPolicies } = roleOf(template, id);
    expect(managedPolicies).toEqual([]);
    expect([...grantsOf(template, id).keys()].filter((a) => a.includes('*'))).toEqual([]);
  });

  it('never lets a function list, delete or change Object Lock settings in the archive', () => {
    for (const id of FUNCTION_IDS) {
      const actions = [...grantsOf(template, id).keys()];
      expect(
        actions.filter((a) => /^s3:(List|Delete|PutObjectRetention|PutObjectLegalHold|Bypass)/.test(a)),
      ).toEqual([]);
    }
  });

  it('gives the webhook PutObject only: no list, no get', () => {
    const s3 = [...grantsOf(template, 'Webhook').keys()].filter((a) => a.startsWith('s3:'));
    expect(s3.sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
  });

  it('lets the results function write only audit lines to the table (its own logs aside), and no secrets', () => {
    const grants = grantsOf(template, 'Results');
    const actions = [...grants.keys()].filter((a) => !a.startsWith('logs:'));
    const writes = actions.filter((a) => /Put|Update|Delete|Write|Abort|secretsmanager:|events:/.test(a));
    // The download links it issues are audited: a new event item, or one more on a tally.
    expect(writes.sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    for (const action of writes) expect(grants.get(action)).toEqual([table]);
  });

  it('gives the page function no permission at all beyond writing its own log group', () => {
    const { statements, managedPolicies } = roleOf(template, 'Browser');
    expect(managedPolicies).toEqual([]);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    const logGroup = `<${logicalId(template, 'AWS::Logs::LogGroup', 'FunctionsBrowserLogGroup')}.Arn>`;
    for (const statement of statements) expect(flat(statement.Resource)).toBe(logGroup);
    expect(roleOf(variantSynth().template, 'Browser').statements).toHaveLength(statements.length);
  });

  it('never scans the table', () => {
    for (const id of FUNCTION_IDS) expect(grantsOf(template, id).has('dynamodb:Scan')).toBe(false);
  });

  it('adds KMS data-key use for writers and decrypt for the reader when the archive has a customer key', () => {
    const variant = variantSynth().template;
    const kms = (id: FunctionId) =>
      [...grantsOf(variant, id).keys()].filter((a) => a.startsWith('kms:')).sort();
    expect(kms('Webhook')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kms('Sweeper')).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kms('Results')).toEqual(['kms:Decrypt']);
    const keyArn = grantsOf(variant, 'Results').get('kms:Decrypt');
    expect(keyArn).toEqual([expect.stringMatching(/^<StorageArchiveKey.*\.Arn>$/)]);
  });

  it('lets the functions decrypt an existing secret under a customer managed key, through Secrets Manager only', () => {
    const variant = variantSynth().template;
    const keyArn = (VARIANT_CONTEXT.endpoints as { sdxl: { apiKeySecretKmsKey: string } }).sdxl
      .apiKeySecretKmsKey;
    for (const id of ['Submit', 'Webhook', 'Sweeper'] as const) {
      const statement = roleOf(variant, id).statements.find((s) => flat(s.Resource) === keyArn);
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      });
    }
    expect(roleOf(variant, 'Results').statements.some((s) => flat(s.Resource) === keyArn)).toBe(false);
    expect(roleOf(template, 'Sweeper').statements.some((s) => JSON.stringify(s).includes('ViaService'))).toBe(
      false,
    );
  });

  it('grants existing API-key secrets by name pattern or exact ARN', () => {
    const variant = variantSynth().template;
    const resources = grantsOf(variant, 'Sweeper').get('secretsmanager:GetSecretValue') ?? [];
    expect(resources).toContain('arn:aws:secretsmanager:eu-west-1:123456789012:secret:runpod-llm-AbCdEf');
    expect(resources.some((r) => r.includes(':secret:prod/runpod/sdxl-??????'))).toBe(true);
    // The two API keys, and the webhook key it signs the callback of a job it sends with.
    expect(resources).toHaveLength(4);
  });
});

/** What the environment looks like in AWS: references replaced by plausible deployed values. */
function deployedEnvironment(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      const text = flat(value);
      if (name === 'PUBLIC_BASE_URL') return [name, 'https://abc123.execute-api.eu-west-1.amazonaws.com'];
      if (name === 'SUBMIT_QUEUE_URL')
        return [name, 'https://sqs.eu-west-1.amazonaws.com/123456789012/submit'];
      // References inside JSON (secret ids) stay as readable placeholders; names become plain strings.
      return [name, text.replace(/[<>]/g, '')];
    }),
  );
}

function sorted(grants: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(grants).map(([a, r]) => [a, [...r].sort()]));
}
