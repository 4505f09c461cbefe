// The typed stack config: defaults, CLI strings, ARCHIVER_* overrides, and errors that name the key.
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildArchiverApp } from '../../lib/archiver-app.ts';
import { EXAMPLE_ENDPOINTS, envNameFor, loadStackConfig, StackConfigError } from '../../lib/stack-config.ts';
import { CDK_JSON_CONTEXT } from './support/synth.ts';

const ENDPOINTS = { default: 'https://api.runpod.ai/v2/abc123' };
const from =
  (context: Record<string, unknown>) =>
  (key: string): unknown =>
    context[key];

function errorOf(context: Record<string, unknown>, env: Record<string, string> = {}): string {
  try {
    loadStackConfig(from(context), env);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('loadStackConfig', () => {
  it('ships no endpoint in cdk.json: without one, synth fails saying what to set and how to make it stick', () => {
    expect(CDK_JSON_CONTEXT.endpoints).toBeUndefined();
    expect(CDK_JSON_CONTEXT['cli-telemetry']).toBe(false);
    const message = errorOf(CDK_JSON_CONTEXT);
    expect(message).toContain('No upstream endpoint configured');
    expect(message).toContain('context "endpoints"');
    expect(message).toContain('ARCHIVER_ENDPOINTS');
    expect(message).toContain('cdk.context.json');
    expect(message).toContain('not remembered');
  });

  it('synthesizes the example (`npm run synth:example`) with an endpoint under .invalid, which reaches nothing', () => {
    const config = loadStackConfig(from({ ...CDK_JSON_CONTEXT, example: 'true' }));
    expect(config.endpoints).toEqual({
      default: { url: EXAMPLE_ENDPOINTS.default, apiKeySecret: undefined, apiKeySecretKmsKey: undefined },
    });
    expect(new URL(EXAMPLE_ENDPOINTS.default).hostname.endsWith('.invalid')).toBe(true);
    expect(config.retentionMinutes).toBe(30);
    expect(config.sweepEveryMinutes).toBe(1);
  });

  it.each([
    ['the example endpoint', EXAMPLE_ENDPOINTS.default],
    ['any .invalid host', 'https://api.invalid/v2/x'],
    ['the placeholder of older cdk.json files', 'https://api.runpod.ai/v2/your-endpoint-id'],
    ['a copied <endpoint-id>', 'https://api.runpod.ai/v2/<endpoint-id>'],
  ])('refuses %s outside the example', (_what, url) => {
    const message = errorOf({ endpoints: { default: url } });
    expect(message).toContain('endpoints.default');
    expect(message).toContain('placeholder');
    expect(message).toContain('cdk.context.json');
  });

  it('fills documented defaults', () => {
    const config = loadStackConfig(from({ endpoints: ENDPOINTS }));
    expect(config).toMatchObject({
      stackName: 'SubmodelArchiver',
      retentionMinutes: 30,
      sweepEveryMinutes: 1,
      sweepGroups: 4,
      sweepBatch: 100,
      webhookVerification: 'strict',
      artifactsDecodeBase64: true,
      objectLockDays: 0,
      objectLockMode: 'GOVERNANCE',
      archiveEncryption: 's3',
      infrequentAccessAfterDays: 30,
      glacierAfterDays: 90,
      logRetentionDays: 365,
      metricsNamespace: 'SubmodelArchiver',
      serviceName: 'submodel-archiver',
    });
    expect(config.endpoints.default).toEqual({
      url: ENDPOINTS.default,
      apiKeySecret: undefined,
      apiKeySecretKmsKey: undefined,
      verification: undefined,
    });
    expect(config.sweeperReservedConcurrency).toBeUndefined();
    expect(config.tableDeletionProtection).toBe(false);
    expect(config.alarmEmail).toBeUndefined();
  });

  it('accepts `-c key=value` strings: numbers, booleans and JSON endpoints', () => {
    const config = loadStackConfig(
      from({
        endpoints: JSON.stringify({
          a: 'https://x.example/v2/a',
          b: { url: 'https://x.example/v2/b', verification: 'trust' },
        }),
        retentionMinutes: '45',
        webhookVerification: 'background',
        objectLockDays: '365',
      }),
    );
    expect(Object.keys(config.endpoints)).toEqual(['a', 'b']);
    expect(config.retentionMinutes).toBe(45);
    expect(config.webhookVerification).toBe('background');
    expect(config.endpoints.b?.verification).toBe('trust');
    expect(config.objectLockDays).toBe(365);
  });

  it('lets ARCHIVER_* environment variables override the context', () => {
    expect(envNameFor('alarmEmail')).toBe('ARCHIVER_ALARM_EMAIL');
    const config = loadStackConfig(from({ endpoints: ENDPOINTS, sweepEveryMinutes: 1 }), {
      ARCHIVER_SWEEP_EVERY_MINUTES: '2',
      ARCHIVER_ALARM_EMAIL: 'ops@example.com',
      ARCHIVER_ARCHIVE_ENCRYPTION: 'kms',
    });
    expect(config.sweepEveryMinutes).toBe(2);
    expect(config.alarmEmail).toBe('ops@example.com');
    expect(config.archiveEncryption).toBe('kms');
  });

  it.each([
    [{}, 'endpoints'],
    [{ endpoints: {} }, 'endpoints: name at least one endpoint'],
    [{ endpoints: { default: 'http://insecure.example' } }, 'endpoints.default'],
    [{ endpoints: { 'bad name': 'https://x.example' } }, 'endpoints'],
    [{ endpoints: '{not json' }, 'endpoints: must be a JSON object'],
    [{ endpoints: ENDPOINTS, defaultEndpoint: 'other' }, 'defaultEndpoint: not one of default'],
    [{ endpoints: ENDPOINTS, retentionMinutes: 0 }, 'retentionMinutes'],
    [{ endpoints: ENDPOINTS, retentionMinutes: 'thirty' }, 'retentionMinutes'],
    [{ endpoints: ENDPOINTS, logRetentionDays: 42 }, 'logRetentionDays'],
    [{ endpoints: ENDPOINTS, infrequentAccessAfterDays: 10 }, 'infrequentAccessAfterDays'],
    [{ endpoints: ENDPOINTS, glacierAfterDays: 40 }, 'glacierAfterDays'],
    [{ endpoints: ENDPOINTS, alarmEmail: 'not-an-email' }, 'alarmEmail'],
    [{ endpoints: ENDPOINTS, archiveEncryption: 'aes' }, 'archiveEncryption'],
    [{ endpoints: ENDPOINTS, objectLockMode: 'STRICT' }, 'objectLockMode'],
    [{ endpoints: ENDPOINTS, sweepEveryMinutes: 15 }, 'sweepEveryMinutes'],
    [{ endpoints: ENDPOINTS, lookIntervalSeconds: 1501 }, 'lookIntervalSeconds'],
    [{ endpoints: ENDPOINTS, lookMarginSeconds: 60 }, 'lookMarginSeconds'],
    [{ endpoints: ENDPOINTS, sweepGroups: 17 }, 'sweepGroups'],
    [{ endpoints: ENDPOINTS, webhookVerification: 'yes' }, 'webhookVerification'],
    [{ endpoints: { a: { url: 'https://x.example/v2/a', verification: 'sometimes' } } }, 'endpoints'],
    [{ endpoints: ENDPOINTS, presignTtlSeconds: 86_400 }, 'presignTtlSeconds'],
    [{ endpoints: ENDPOINTS, sweeperReservedConcurrency: 0 }, 'sweeperReservedConcurrency'],
    [{ endpoints: ENDPOINTS, runsyncWaitSeconds: 25 }, 'runsyncWaitSeconds'],
    [{ endpoints: ENDPOINTS, webhookBurstLimit: 1, webhookRateLimit: 100 }, 'webhookBurstLimit'],
    [
      {
        endpoints: {
          a: { url: 'https://x.example/v2/a', apiKeySecretKmsKey: 'arn:aws:kms:eu-west-1:1:key/x' },
        },
      },
      'endpoints.a',
    ],
  ])('rejects %j naming the key (%s)', (context, expected) => {
    expect(errorOf(context)).toContain(expected);
  });

  it('says where a bad key can be set', () => {
    expect(errorOf({ endpoints: ENDPOINTS, retentionMinutes: -1 })).toContain(
      '(context "retentionMinutes" or ARCHIVER_RETENTION_MINUTES)',
    );
  });

  it('names a bad environment override too', () => {
    expect(errorOf({ endpoints: ENDPOINTS }, { ARCHIVER_SWEEP_BATCH: '0' })).toContain('sweepBatch');
  });

  it('fails the app build, before any construct exists, on bad config', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, endpoints: { default: 'ftp://nope' } } });
    expect(() => buildArchiverApp(app, {})).toThrow(/endpoints\.default/);
    expect(app.node.children).toHaveLength(0);
  });
});

describe('README settings from the stack config', () => {
  /** Set by the stack from the resources it creates (a binding in lib/), never by hand. */
  const FROM_RESOURCES = [
    'JOBS_TABLE',
    'ARCHIVE_BUCKET',
    'EVENT_BUS_NAME',
    'WEBHOOK_SECRET_ID',
    'UPSTREAM_API_KEY_SECRETS',
    'RUNSYNC_WAIT_MS',
    'SUBMIT_QUEUE_URL',
    // Tied to the submitter event source's maximum concurrency (lib/constructs/submit-queue.ts).
    'QUEUE_RUN_CONCURRENCY',
  ];
  /**
   * Not for a deployment: local mode only (plain keys and secrets, the event forwarder, plain-HTTP fetch
   * hosts), deprecated, fixed by Lambda's own limit, or DUE_SHARDS, which would strand the due jobs of the
   * shards a smaller value no longer reads.
   */
  const NOT_DEPLOYED = [
    'UPSTREAM_API_KEYS',
    'WEBHOOK_SECRET',
    'EVENTS_FORWARD_URL',
    'ARTIFACT_FETCH_ALLOW_HOSTS',
    'STRICT_WEBHOOKS',
    'MAX_SUBMIT_BYTES',
    'DUE_SHARDS',
  ];

  it('lets every function setting the README documents be set from the stack config', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const { sharedEnvironment } = await import('../../lib/function-environment.ts');
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('| variable | default | meaning |'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
    const documented = new Set(
      rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])),
    );
    expect(documented.size).toBeGreaterThan(30);
    const everySet = loadStackConfig(
      from({
        // An endpoint whose verification differs is what sets WEBHOOK_VERIFICATION_BY_ENDPOINT.
        endpoints: { ...ENDPOINTS, other: { url: 'https://api.runpod.ai/v2/def456', verification: 'trust' } },
        firstLookSeconds: 120,
        lookIntervalSeconds: 300,
        lookMarginSeconds: 300,
        notFoundGraceSeconds: 30,
        submitStaleSeconds: 60,
        sweepSafetySeconds: 5,
        upstreamTimeoutSeconds: 8,
        statusRatePer10s: 1000,
        statusConcurrency: 100,
        runRatePer10s: 500,
        runConcurrency: 50,
        cancelRatePer10s: 50,
        cancelConcurrency: 5,
        queueRunRatePer10s: 500,
        queueHorizonSeconds: 3,
        verifyAfterSeconds: 600,
        verifyPerPass: 50,
        artifactsFetchUrls: true,
        artifactFetchTimeoutSeconds: 5,
        secretCacheTtlSeconds: 60,
      }),
    );
    const env = sharedEnvironment(everySet, 'https://api.example.com');
    const lib = ['lib', 'lib/constructs']
      .flatMap((dir) =>
        readdirSync(dir)
          .filter((f) => f.endsWith('.ts'))
          .map((f) => readFileSync(`${dir}/${f}`, 'utf8')),
      )
      .join('\n');
    const missing = [...documented].filter((name) => {
      if (name === undefined || NOT_DEPLOYED.includes(name)) return false;
      if (FROM_RESOURCES.includes(name)) return !lib.includes(`'${name}'`) && !lib.includes(`${name}:`);
      return env[name as keyof typeof env] === undefined;
    });
    expect(missing).toEqual([]);
    expect(env).toMatchObject({
      NOT_FOUND_GRACE_MS: '30000',
      STATUS_RATE_PER_10S: '1000',
      ARTIFACTS_FETCH_URLS: 'true',
      SECRET_CACHE_TTL_MS: '60000',
    });
  });

  it('leaves unset function settings out, so the functions keep their own defaults', async () => {
    const { sharedEnvironment } = await import('../../lib/function-environment.ts');
    const env = sharedEnvironment(loadStackConfig(from({ endpoints: ENDPOINTS })), 'https://api.example.com');
    expect(env.STATUS_RATE_PER_10S).toBeUndefined();
    expect(env.SECRET_CACHE_TTL_MS).toBeUndefined();
    expect(env.ARTIFACTS_FETCH_URLS).toBeUndefined();
  });
});
