// The one typed configuration, parsed once from the environment; only variables AWS itself sets or reads are read elsewhere.
import * as z from 'zod/mini';
import { DUE_SHARDS } from './adapters/table-definition.ts';
import { safeLookIntervalMs } from './core/schedule.ts';
import './schemas/english-messages.ts';

const jsonText = z.pipe(
  z.string(),
  z.transform((text: string, payload) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      payload.issues.push({ code: 'custom', message: 'must be a JSON object', input: text });
      return z.NEVER;
    }
  }),
);
const endpointKey = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'endpoint names: letters, digits, _ and -'));
const jsonRecord = <T extends z.ZodMiniType>(value: T) => z.pipe(jsonText, z.record(endpointKey, value));

/** `true`/`1` or `false`/`0`/empty, as the value of a flag variable. */
const flag = (fallback: boolean, values: readonly [string, ...string[]]) =>
  z._default(
    z.pipe(
      z.enum(values),
      z.transform((v: string) => v === 'true' || v === '1'),
    ),
    fallback,
  );
const bool = flag(false, ['true', 'false', '1', '0', '']);

const count = (min: number) => z.coerce.number().check(z.int(), z.gte(min));
const countUpTo = (min: number, max: number) => z.coerce.number().check(z.int(), z.gte(min), z.lte(max));
const ms = (fallback: number, min = 0) => z._default(count(min), fallback);
const httpUrl = () => z.url({ protocol: /^https?$/ });
const nonEmpty = () => z.string().check(z.minLength(1));

// ---- Webhook trust: the value types of its variables below.
const verificationPolicy = z.enum(['strict', 'background', 'trust']);
/** One secret of 32+ characters, or a JSON array of them (a rotation in progress). */
const webhookSecretValue = z.string().check(
  z.refine((text) => {
    if (!text.trim().startsWith('[')) return text.length >= 32;
    try {
      const list: unknown = JSON.parse(text);
      return (
        Array.isArray(list) && list.length > 0 && list.every((s) => typeof s === 'string' && s.length >= 32)
      );
    } catch {
      return text.length >= 32;
    }
  }, 'one secret of at least 32 characters, or a JSON array of such secrets (the first signs)'),
);

/** Environment variables, by name. CDK (lib/) and local mode (local/) set exactly these. */
export const envSchema = z
  .object({
    /** JSON: endpoint name → base URL up to the endpoint id, e.g. {"default":"https://api.runpod.ai/v2/abc123"}. */
    UPSTREAM_ENDPOINTS: jsonRecord(httpUrl()),
    /** Endpoint used when a request names none; defaults to the first configured. */
    DEFAULT_ENDPOINT: z.optional(z.string()),
    /** Local mode: JSON endpoint name → API key. */
    UPSTREAM_API_KEYS: z.optional(jsonRecord(nonEmpty())),
    /** AWS: JSON endpoint name → Secrets Manager secret id holding the API key. */
    UPSTREAM_API_KEY_SECRETS: z.optional(jsonRecord(nonEmpty())),
    /** Base URL the upstream calls back: {PUBLIC_BASE_URL}/webhooks/{jobId}/{token}. */
    PUBLIC_BASE_URL: z.pipe(
      httpUrl(),
      z.transform((u: string) => u.replace(/\/+$/, '')),
    ),
    /**
     * Local mode: the webhook HMAC secret itself (at least 32 characters), or a JSON array of them during a
     * rotation (the first signs, all are accepted). Webhook and submit need this or WEBHOOK_SECRET_ID.
     */
    WEBHOOK_SECRET: z.optional(webhookSecretValue),
    /** AWS: Secrets Manager secret id of the webhook HMAC secret (one secret, or a JSON array as above). */
    WEBHOOK_SECRET_ID: z.optional(nonEmpty()),
    JOBS_TABLE: z.string().check(z.minLength(3)),
    ARCHIVE_BUCKET: z.string().check(z.minLength(3)),
    /** EventBridge bus for Job Archived / Expired / Rejected; unset → events are logged only. */
    EVENT_BUS_NAME: z.optional(nonEmpty()),
    /** Local mode: also POST each job event to this URL. */
    EVENTS_FORWARD_URL: z.optional(httpUrl()),
    /** How long the upstream keeps a finished result (30 min for /run). */
    RETENTION_MS: ms(30 * 60_000, 1000),
    /**
     * How long before a result could expire the sweeper looks (core/schedule.ts): its worst lag
     * (OldestDueAgeMs) must stay under this. Default RETENTION_MS / 6 (5 min of 30).
     */
    LOOK_MARGIN_MS: z.optional(count(0)),
    /** First sweeper look after submit; default and upper bound RETENTION_MS − LOOK_MARGIN_MS. */
    FIRST_LOOK_MS: z.optional(count(0)),
    /**
     * Later looks at a running job; default and upper bound RETENTION_MS − LOOK_MARGIN_MS. Shorter looks
     * capture a result whose webhook was lost sooner, for more status calls.
     */
    LOOK_INTERVAL_MS: z.optional(count(100)),
    /** A 404 for a job submitted less than this long ago is retried, not taken as expiry. */
    NOT_FOUND_GRACE_MS: ms(60_000),
    /** SUBMITTING jobs older than this were left by a crash or an ambiguous /run. */
    SUBMIT_STALE_MS: ms(120_000),
    DUE_SHARDS: z._default(countUpTo(1, 64), DUE_SHARDS),
    /**
     * Groups of due shards swept apart, each by its own invocation under its own lease (sweep-groups.ts);
     * at most DUE_SHARDS.
     */
    SWEEP_GROUPS: z._default(countUpTo(1, 64), 1),
    SWEEP_BATCH: z._default(countUpTo(1, 1000), 100),
    /** Time the sweeper keeps free before its own timeout. */
    SWEEP_SAFETY_MS: ms(10_000),
    // Sweeper invocation (sweep-invocation.ts): it keeps sweeping within its minute while jobs come due, so a
    // runsync result (kept 60 s upstream) is looked at within seconds, not at the next once-a-minute tick.
    /** How long one invocation may keep sweeping; under the schedule's period so the next one takes over. */
    SWEEP_INVOCATION_MS: ms(50_000, 0),
    /** Pause between passes of one invocation while jobs come due within it. */
    SWEEP_REPEAT_MS: ms(3000, 10),
    /** The sweep lease's length; renewed every third of it while an invocation holds it. */
    SWEEP_LEASE_MS: ms(20_000, 100),
    UPSTREAM_TIMEOUT_MS: ms(10_000, 100),
    /** Client-side limits per 10 s and concurrency, below the documented 2000/400 (status) and 1000/200 (run). */
    STATUS_RATE_PER_10S: z._default(count(1), 1900),
    STATUS_CONCURRENCY: z._default(count(1), 300),
    RUN_RATE_PER_10S: z._default(count(1), 800),
    RUN_CONCURRENCY: z._default(count(1), 150),
    CANCEL_RATE_PER_10S: z._default(count(1), 80),
    CANCEL_CONCURRENCY: z._default(count(1), 15),
    // ---- The submit queue (core/enqueue.ts, core/submitter.ts): bulk submission with back-pressure.
    /** The SQS queue `"queue": true` jobs go to; without it POST /jobs refuses the queue option. */
    SUBMIT_QUEUE_URL: z.optional(z.url({ protocol: /^https?$/ })),
    /**
     * /run starts per 10 s per endpoint across every submitter (a DynamoDB rate item): 97% of the documented
     * 1000, so a submitter that starts a little late never pushes a 10 s window over the limit.
     */
    QUEUE_RUN_RATE_PER_10S: z._default(count(1), 970),
    /**
     * /run calls in flight per submitter instance. The stack caps submitters at SUBMITTER_MAX_CONCURRENCY
     * instances, so the product (10 × 20) stays at the documented 200.
     */
    QUEUE_RUN_CONCURRENCY: z._default(count(1), 20),
    /** How far ahead a submitter takes /run start times; messages beyond it are put back, delayed. */
    QUEUE_HORIZON_MS: ms(2000, 100),
    /** A QUEUED job still queued this long after its estimated start is due to the sweeper (a lost message). */
    QUEUE_RECOVERY_MARGIN_MS: ms(300_000, 1000),
    /**
     * How long POST /jobs with sync:true waits on /runsync. API Gateway ends the request at 30 s and the submit
     * function at 29 s: 20 s leaves time to record and archive what came back.
     */
    RUNSYNC_WAIT_MS: ms(20_000, 1000),
    /**
     * How long a capture of a runsync job holds it. runsync results are kept upstream for only 60 s: a dead
     * capture's lease on one must run out well inside that, or nobody may capture the result before it is
     * gone; still longer than any capture takes. Scaled down only with that retention (the chaos suite).
     */
    SYNC_CAPTURE_LEASE_MS: ms(25_000, 100),
    /** Deprecated: `true` forces WEBHOOK_VERIFICATION=strict everywhere; `false` no longer opts out of it. */
    STRICT_WEBHOOKS: bool,
    /** Decode base64 / data-URI images in outputs into artifact files. */
    ARTIFACTS_DECODE_BASE64: flag(true, ['true', 'false', '1', '0']),
    ARTIFACT_MAX_BYTES: z._default(count(1), 50 * 1024 * 1024),
    /** Fetch http(s) image URLs found in outputs into artifact files, through the SSRF guard. */
    ARTIFACTS_FETCH_URLS: bool,
    /** Whole time one URL fetch may take, redirects and body included. */
    ARTIFACT_FETCH_TIMEOUT_MS: ms(10_000, 100),
    /**
     * Local mode only (leave empty in AWS): comma-separated `host:port` entries fetched over plain http and
     * at loopback or private addresses, e.g. the emulator's `127.0.0.1:PORT`.
     */
    ARTIFACT_FETCH_ALLOW_HOSTS: z.pipe(
      z.pipe(
        z.optional(z.string()),
        z.transform((text: string | undefined) =>
          (text ?? '')
            .split(',')
            .map((entry) => entry.trim().toLowerCase())
            .filter(Boolean),
        ),
      ),
      z.array(
        z
          .string()
          .check(z.regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/, 'comma-separated host:port entries')),
      ),
    ),
    PRESIGN_TTL_SECONDS: z._default(countUpTo(1, 604_800), 900),
    /**
     * Largest POST /jobs body accepted: 4 MiB, so the Lambda event carrying it (possibly base64-encoded, 4/3
     * larger, plus headers) stays under Lambda's 6 MB request payload limit.
     */
    MAX_SUBMIT_BYTES: z._default(count(1), 4 * 1024 * 1024),
    // Deploy settings (docs/deploy.md): secrets are read again after this long, so a rotated key is picked up
    // without a cold start; 0 reads them on every use.
    SECRET_CACHE_TTL_MS: ms(5 * 60_000),
    // ---- Webhook trust (core/webhook.ts, core/verify.ts): how a webhook body may become the archived result.
    /**
     * `strict` (default): a body is confirmed with /status before anything is archived; `background`: the body
     * is archived as delivered at once and confirmed by one sweeper /status look inside the retention window;
     * `trust`: archived as delivered, never confirmed. Each costs 1, 1 and 0 status calls per webhook job.
     */
    WEBHOOK_VERIFICATION: z.optional(verificationPolicy),
    /** JSON endpoint name → policy, for endpoints that differ from WEBHOOK_VERIFICATION. */
    WEBHOOK_VERIFICATION_BY_ENDPOINT: z.optional(jsonRecord(verificationPolicy)),
    /** Background verification waits this long after the archive (default LOOK_INTERVAL_MS's value). */
    VERIFY_AFTER_MS: z.optional(count(0)),
    /** Status calls one sweep pass may spend on background verification before it yields to captures. */
    VERIFY_PER_PASS: z._default(count(1), 200),
    // ---- end of webhook trust
    LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error', 'silent']), 'info'),
    METRICS_NAMESPACE: z._default(nonEmpty(), 'SubmodelArchiver'),
  })
  .check(
    z.superRefine((env, ctx) => {
      const names = Object.keys(env.UPSTREAM_ENDPOINTS);
      if (names.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['UPSTREAM_ENDPOINTS'], message: 'name at least one endpoint' });
      }
      if (env.SWEEP_GROUPS > env.DUE_SHARDS) {
        ctx.addIssue({ code: 'custom', path: ['SWEEP_GROUPS'], message: 'at most DUE_SHARDS' });
      }
      const margin = env.LOOK_MARGIN_MS ?? Math.floor(env.RETENTION_MS / 6);
      if (env.RETENTION_MS - margin < 1000) {
        ctx.addIssue({
          code: 'custom',
          path: ['LOOK_MARGIN_MS'],
          message: 'must leave at least 1 s of RETENTION_MS between looks',
        });
      }
      if (env.DEFAULT_ENDPOINT && !names.includes(env.DEFAULT_ENDPOINT)) {
        ctx.addIssue({
          code: 'custom',
          path: ['DEFAULT_ENDPOINT'],
          message: `not one of ${names.join(', ')}`,
        });
      }
    }),
  );

export type Env = z.output<typeof envSchema>;

/** The configuration services use, with derived values filled in. */
export interface Config extends Env {
  defaultEndpoint: string;
  /** Before a result could expire, the sweeper looks this early (LOOK_MARGIN_MS's value). */
  lookMarginMs: number;
  firstLookMs: number;
  lookIntervalMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment; throws ConfigError naming every bad variable. Every setting of the archiver is read
 * here. process.env is otherwise read only by the compositions (to hand it here, and for the Lambda runtime's
 * AWS_LAMBDA_FUNCTION_NAME and POWERTOOLS_SERVICE_NAME: composition/observability.ts) and by
 * adapters/aws-clients.ts (AWS_ENDPOINT_URL_* and AWS_REGION, read as the SDK itself reads them).
 */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const lookMarginMs = e.LOOK_MARGIN_MS ?? Math.floor(e.RETENTION_MS / 6);
  // Never further apart than the rule allows (core/schedule.ts), whatever is configured.
  const safe = safeLookIntervalMs(e.RETENTION_MS, lookMarginMs);
  return {
    ...e,
    defaultEndpoint: e.DEFAULT_ENDPOINT ?? Object.keys(e.UPSTREAM_ENDPOINTS)[0] ?? 'default',
    lookMarginMs,
    firstLookMs: Math.min(e.FIRST_LOOK_MS ?? safe, safe),
    lookIntervalMs: Math.min(e.LOOK_INTERVAL_MS ?? safe, safe),
  };
}
