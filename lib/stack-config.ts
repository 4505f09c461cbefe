// The typed stack configuration: cdk.json context (or `-c key=value`), overridden by ARCHIVER_* environment variables.
import { z } from 'zod';
import { DUE_SHARDS } from '../functions/adapters/table-definition.ts';

/** Same rule as the runtime's UPSTREAM_ENDPOINTS names (functions/config.ts), so CDK never passes a name it rejects. */
const endpointName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'endpoint names: letters, digits, _ and -');

const httpsUrl = z.url({ protocol: /^https$/, message: 'must be an https:// URL' });

/** Context from the CLI arrives as strings; from cdk.json as JSON values. Accept both. */
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    z.number().int().min(min).max(max),
  );

const flag = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

const jsonValue = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    }
  }, schema);

/** A customer managed KMS key, by full key ARN (any partition). */
const kmsKeyArn = z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/, 'a KMS key ARN');

/**
 * An endpoint is a base URL, or a base URL with an API-key secret the user already keeps in Secrets Manager
 * (and, when that secret is encrypted with a customer managed key, the key's ARN: the functions need kms:Decrypt).
 */
/** How a webhook body may become the archived result (functions/config.ts WEBHOOK_VERIFICATION). */
const webhookVerification = z.enum(['strict', 'background', 'trust']);

const endpointSpec = z
  .union([
    httpsUrl,
    z
      .object({
        url: httpsUrl,
        apiKeySecret: z.string().min(1).optional(),
        apiKeySecretKmsKey: kmsKeyArn.optional(),
        /** This endpoint's webhook verification, when it differs from `webhookVerification`. */
        verification: webhookVerification.optional(),
      })
      .strict()
      .refine((e) => e.apiKeySecretKmsKey === undefined || e.apiKeySecret !== undefined, {
        message:
          'apiKeySecretKmsKey needs apiKeySecret (a secret this stack creates uses the AWS managed key)',
      }),
  ])
  .transform((spec) =>
    typeof spec === 'string'
      ? { url: spec, apiKeySecret: undefined, apiKeySecretKmsKey: undefined, verification: undefined }
      : spec,
  );

/**
 * The endpoint `npm run synth:example` and the infra tests use. `.invalid` is reserved (RFC 2606): the name
 * never resolves, so a stack synthesized or even deployed with it cannot reach anything.
 */
export const EXAMPLE_ENDPOINTS = {
  default: 'https://example-endpoint.invalid/v2/example-endpoint-id',
} as const;

/** Hosts no real deployment has: a reserved example domain, or the placeholder text of an old cdk.json. */
const PLACEHOLDER_URL = /^https:\/\/[^/]*\.invalid(\/|$)|your-endpoint-id|<endpoint-id>/i;

/** How to configure endpoints so that every later plain `cdk deploy` sees them again. */
export const ENDPOINTS_HELP =
  'Name your upstream endpoints in cdk.context.json (or the "context" of cdk.json), for example\n' +
  '    {"endpoints": {"default": "https://api.runpod.ai/v2/<your-endpoint-id>"}}\n' +
  '  or export ARCHIVER_ENDPOINTS with the same JSON. A value given only with `-c endpoints=...` is not ' +
  'remembered,\n  so a later plain `cdk deploy` would not see it. `npm run synth:example` synthesizes with a ' +
  'fake endpoint that reaches nothing.';

/** Lambda role credentials last hours, not the 7 days SigV4 allows; a URL dies with the credentials it was signed with. */
export const MAX_PRESIGN_TTL_SECONDS = 12 * 3600;

/**
 * API Gateway ends every integration at 30 s. The submit function times out at SUBMIT_TIMEOUT_SECONDS (before
 * the API does, so its own log says why); a sync submit's /runsync wait leaves SUBMIT_WORK_MARGIN_SECONDS of that
 * for the record, the archive writes and the answer.
 */
export const API_INTEGRATION_TIMEOUT_SECONDS = 30;
export const SUBMIT_TIMEOUT_SECONDS = 29;
export const SUBMIT_WORK_MARGIN_SECONDS = 7;
export const MAX_RUNSYNC_WAIT_SECONDS = SUBMIT_TIMEOUT_SECONDS - SUBMIT_WORK_MARGIN_SECONDS;

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653];

export const stackConfigSchema = z
  .object({
    /** Synthesize with EXAMPLE_ENDPOINTS (`npm run synth:example`, the tests): allows `.invalid` endpoints. */
    example: flag.default(false),
    /** CloudFormation stack name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'letters, digits and -; starts with a letter')
      .default('SubmodelArchiver'),
    /** Upstream endpoints: name → base URL up to the endpoint id, or {url, apiKeySecret}. */
    endpoints: jsonValue(
      z
        .record(endpointName, endpointSpec)
        .refine((r) => Object.keys(r).length > 0, 'name at least one endpoint'),
    ),
    /** Endpoint used when a request names none; defaults to the first. */
    defaultEndpoint: endpointName.optional(),
    /** How long the upstream keeps a finished result (30 min for /run). */
    retentionMinutes: int(1, 1440).default(30),
    /**
     * How long before a result seen unfinished could expire the sweeper looks again; the sweeper's lag must
     * stay under it (the SweeperBehind alarm fires at half). Defaults to retention / 6 in the runtime.
     */
    lookMarginSeconds: int(1, 86_400).optional(),
    /** First sweeper look after submit; default and most: retention less the look margin. */
    firstLookSeconds: int(0, 86_400).optional(),
    /** Later sweeper looks at a running job; default and most: retention less the look margin. */
    lookIntervalSeconds: int(1, 86_400).optional(),
    /** Sweeper schedule. */
    sweepEveryMinutes: int(1, 60).default(1),
    /**
     * Groups of the due shards swept side by side, one schedule and one lease each; the sweeper's status
     * limits are shared out among them.
     */
    sweepGroups: int(1, DUE_SHARDS).default(4),
    /**
     * Reserved concurrency of the sweeper; unset (the default) reserves none. Reserving any needs an account
     * concurrency quota of at least 100 + this (Lambda keeps 100 unreserved); new accounts may have 10.
     * One sweep at a time comes from the sweep lease in the jobs table, not from this.
     */
    sweeperReservedConcurrency: int(1, 1000).optional(),
    /** Due jobs the sweeper reads per query page. */
    sweepBatch: int(1, 1000).default(100),
    /**
     * How a webhook body may become the archived result: `strict` confirms it with /status first, `background`
     * archives it as delivered and confirms it with one sweeper look, `trust` never confirms (docs/architecture.md).
     */
    webhookVerification: webhookVerification.default('strict'),
    /** Decode base64 / data-URI images in outputs into artifact files. */
    artifactsDecodeBase64: flag.default(true),
    /** Largest single artifact kept, in MiB. */
    artifactMaxMb: int(1, 5120).default(50),
    /**
     * Lifetime of presigned download URLs. The results function signs with its role's temporary credentials,
     * and a URL stops working when they expire, so more than a few hours cannot be honoured (capped at 12 h;
     * the runtime also caps each URL at the credentials' own expiry).
     */
    presignTtlSeconds: int(1, MAX_PRESIGN_TTL_SECONDS).default(900),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** CloudWatch log groups and S3 server access logs. */
    logRetentionDays: int(1, 3653)
      .refine((d) => LOG_RETENTION_DAYS.includes(d), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(365),
    /** Object Lock default retention for archived objects; 0 = no default retention. */
    objectLockDays: int(0, 36_500).default(0),
    /** GOVERNANCE can be lifted by privileged users; COMPLIANCE cannot be lifted by anyone, root included. */
    objectLockMode: z.enum(['GOVERNANCE', 'COMPLIANCE']).default('GOVERNANCE'),
    /** 's3' (SSE-S3), 'kms' (a customer managed key created by the stack), or an existing KMS key ARN. */
    archiveEncryption: z
      .union([z.enum(['s3', 'kms']), kmsKeyArn], { message: "'s3', 'kms' or a KMS key ARN" })
      .default('s3'),
    /**
     * DynamoDB deletion protection of the jobs table. Off by default because a protected table cannot be
     * deleted by a rolled-back first create; turn it on once the stack exists (an in-place update).
     */
    tableDeletionProtection: flag.default(false),
    /** Days before archived objects move to S3 Standard-IA; 0 = never. */
    infrequentAccessAfterDays: int(0, 36_500).default(30),
    /** Days before archived objects move to Glacier Instant Retrieval (still downloadable); 0 = never. */
    glacierAfterDays: int(0, 36_500).default(90),
    /** Days a replaced (noncurrent) object version is kept. */
    noncurrentVersionDays: int(1, 36_500).default(90),
    /** Alarm notifications; unset → the SNS topic has no subscription. */
    alarmEmail: z.email().optional(),
    metricsNamespace: z.string().min(1).max(255).default('SubmodelArchiver'),
    /** Powertools service name and the `service` dimension of every custom metric. */
    serviceName: z.string().min(1).max(64).default('submodel-archiver'),
    /** HTTP API throttling of each client route (the IAM /jobs routes, health, the page), per second and burst. */
    apiRateLimit: int(1, 10_000).default(50),
    apiBurstLimit: int(1, 5000).default(100),
    /** Throttling of the public webhook route alone, so callbacks and clients never share one budget. */
    webhookRateLimit: int(1, 10_000).default(100),
    webhookBurstLimit: int(1, 5000).default(200),
    /** How long a sync submit waits on /runsync; with the submit work it must fit API Gateway's 30 s. */
    runsyncWaitSeconds: int(1, MAX_RUNSYNC_WAIT_SECONDS).default(20),
    /** Base URL the upstream calls back on when a custom domain fronts the API; default: the API's own URL. */
    publicBaseUrl: httpsUrl.optional(),
    // The function settings below are unset by default: the functions' own defaults apply (README "Settings").
    /** A 404 younger than this is retried, not taken as expiry. */
    notFoundGraceSeconds: int(0, 3600).optional(),
    /** When a SUBMITTING job left by a crash is settled. */
    submitStaleSeconds: int(1, 3600).optional(),
    /** Time the sweeper keeps free before its own timeout. */
    sweepSafetySeconds: int(1, 300).optional(),
    /** Per upstream call, for every function but the webhook (which keeps 3 s to answer the callback in time). */
    upstreamTimeoutSeconds: int(1, 60).optional(),
    /** Client-side limits per endpoint and 10 s window, and concurrency caps, by call class. */
    statusRatePer10s: int(1, 100_000).optional(),
    statusConcurrency: int(1, 10_000).optional(),
    runRatePer10s: int(1, 100_000).optional(),
    runConcurrency: int(1, 10_000).optional(),
    cancelRatePer10s: int(1, 100_000).optional(),
    cancelConcurrency: int(1, 10_000).optional(),
    /** The submit queue: fleet-wide /run starts per endpoint and 10 s, and how far ahead a submitter takes them. */
    queueRunRatePer10s: int(1, 100_000).optional(),
    queueHorizonSeconds: int(1, 60).optional(),
    /** Background verification: delay after the archive, and status calls one sweep pass may spend on it. */
    verifyAfterSeconds: int(0, 86_400).optional(),
    verifyPerPass: int(1, 10_000).optional(),
    /** Also fetch image URLs found in outputs, through the SSRF guard; and the time cap per URL. */
    artifactsFetchUrls: flag.optional(),
    artifactFetchTimeoutSeconds: int(1, 60).optional(),
    /** How long a Secrets Manager value is used before it is read again. */
    secretCacheTtlSeconds: int(1, 86_400).optional(),
  })
  .superRefine((c, ctx) => {
    const names = Object.keys(c.endpoints);
    for (const [name, endpoint] of Object.entries(c.endpoints)) {
      if (PLACEHOLDER_URL.test(endpoint.url) && !c.example) {
        ctx.addIssue({
          code: 'custom',
          path: ['endpoints', name],
          message: `${endpoint.url} is a placeholder, not an upstream endpoint. ${ENDPOINTS_HELP}`,
        });
      }
    }
    if (c.defaultEndpoint && !names.includes(c.defaultEndpoint)) {
      ctx.addIssue({ code: 'custom', path: ['defaultEndpoint'], message: `not one of ${names.join(', ')}` });
    }
    // S3 refuses Standard-IA transitions before 30 days and Glacier within 30 days of Standard-IA.
    if (c.infrequentAccessAfterDays > 0 && c.infrequentAccessAfterDays < 30) {
      ctx.addIssue({
        code: 'custom',
        path: ['infrequentAccessAfterDays'],
        message: 'must be 0 or at least 30',
      });
    }
    if (
      c.infrequentAccessAfterDays > 0 &&
      c.glacierAfterDays > 0 &&
      c.glacierAfterDays < c.infrequentAccessAfterDays + 30
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['glacierAfterDays'],
        message: 'must be at least infrequentAccessAfterDays + 30 (or 0)',
      });
    }
    const retentionSeconds = c.retentionMinutes * 60;
    const marginSeconds = lookMarginSecondsOf(c);
    // A look later than retention − margin after the last one could come after the result is gone.
    for (const key of ['firstLookSeconds', 'lookIntervalSeconds'] as const) {
      const value = c[key];
      if (value !== undefined && value > retentionSeconds - marginSeconds)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'must be at most the retention less the look margin',
        });
    }
    // The margin absorbs the sweeper's lag: at least two schedule periods of it.
    if (marginSeconds < c.sweepEveryMinutes * 60 * 2 || marginSeconds >= retentionSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['lookMarginSeconds'],
        message: 'must be at least two sweep periods and shorter than the retention',
      });
    }
    if (c.sweepEveryMinutes * 60 * 3 > retentionSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['sweepEveryMinutes'],
        message: 'must be at most a third of the retention',
      });
    }
    if (c.apiBurstLimit < c.apiRateLimit / 10) {
      ctx.addIssue({ code: 'custom', path: ['apiBurstLimit'], message: 'too small for apiRateLimit' });
    }
    if (c.webhookBurstLimit < c.webhookRateLimit / 10) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookBurstLimit'],
        message: 'too small for webhookRateLimit',
      });
    }
  });

export type StackConfig = z.output<typeof stackConfigSchema>;

/** The look margin in force: the configured one, or the runtime's default of retention / 6. */
export function lookMarginSecondsOf(c: Pick<StackConfig, 'lookMarginSeconds' | 'retentionMinutes'>): number {
  return c.lookMarginSeconds ?? Math.floor((c.retentionMinutes * 60) / 6);
}
export type EndpointConfig = StackConfig['endpoints'][string];

/** Every key of the config, for reading context and environment. */
export const STACK_CONFIG_KEYS = Object.keys(stackConfigSchema.shape) as (keyof StackConfig)[];

export class StackConfigError extends Error {
  override name = 'StackConfigError';
}

/** ARCHIVER_ + the key in SCREAMING_SNAKE_CASE: alarmEmail → ARCHIVER_ALARM_EMAIL. */
export function envNameFor(key: string): string {
  return `ARCHIVER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Reads every key from the environment (ARCHIVER_*) or else the CDK context, and validates.
 * @throws StackConfigError naming each bad key and where it can be set.
 * @example loadStackConfig((key) => app.node.tryGetContext(key), process.env)
 */
export function loadStackConfig(
  readContext: (key: string) => unknown,
  env: Record<string, string | undefined> = {},
): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const key of STACK_CONFIG_KEYS) {
    const fromEnv = env[envNameFor(key)];
    const value = fromEnv !== undefined && fromEnv !== '' ? fromEnv : readContext(key);
    if (value !== undefined && value !== null) raw[key] = value;
  }
  if (raw.endpoints === undefined) {
    if (!isTrue(raw.example)) {
      throw new StackConfigError(
        `No upstream endpoint configured: set context "endpoints" or ${envNameFor('endpoints')}.\n  ${ENDPOINTS_HELP}`,
      );
    }
    raw.endpoints = EXAMPLE_ENDPOINTS;
  }
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(config)';
      const top = String(issue.path[0] ?? '');
      const where = top ? ` (context "${top}" or ${envNameFor(top)})` : '';
      return `${key}: ${issue.message}${where}`;
    });
    throw new StackConfigError(`Invalid stack configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}
