// CLI: `npm run emulator` starts a standalone emulator from flags or EMULATOR_* variables and stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startupError } from '../startup-errors.ts';
import { type EmulatorOptions, type FaultOptions, startEmulator } from './index.ts';
import { resolveSettings } from './options.ts';

type Kind = 'int' | 'number' | 'probability' | 'string' | 'list';

/** flag name → [environment variable, kind, where it goes]. Flags win over the environment. */
const SPEC: Record<
  string,
  [string, Kind, { option: keyof EmulatorOptions } | { fault: keyof FaultOptions }]
> = {
  host: ['EMULATOR_HOST', 'string', { option: 'host' }],
  port: ['EMULATOR_PORT', 'int', { option: 'port' }],
  'api-key': ['EMULATOR_API_KEY', 'string', { option: 'apiKey' }],
  seed: ['EMULATOR_SEED', 'int', { option: 'seed' }],
  'retention-ms': ['EMULATOR_RETENTION_MS', 'int', { option: 'retentionMs' }],
  'runsync-retention-ms': ['EMULATOR_RUNSYNC_RETENTION_MS', 'int', { option: 'runsyncRetentionMs' }],
  'job-duration-ms': ['EMULATOR_JOB_DURATION_MS', 'int', { option: 'jobDurationMs' }],
  'time-scale': ['EMULATOR_TIME_SCALE', 'number', { option: 'timeScale' }],
  workers: ['EMULATOR_WORKERS', 'int', { option: 'workers' }],
  'workers-max': ['EMULATOR_WORKERS_MAX', 'int', { option: 'workersMax' }],
  'rate-limit-scale': ['EMULATOR_RATE_LIMIT_SCALE', 'number', { option: 'rateLimitScale' }],
  'webhook-retry-delay-ms': ['EMULATOR_WEBHOOK_RETRY_DELAY_MS', 'int', { option: 'webhookRetryDelayMs' }],
  'webhook-timeout-ms': ['EMULATOR_WEBHOOK_TIMEOUT_MS', 'int', { option: 'webhookTimeoutMs' }],
  'webhook-max-body-bytes': ['EMULATOR_WEBHOOK_MAX_BODY_BYTES', 'int', { option: 'webhookMaxBodyBytes' }],
  'webhook-statuses': ['EMULATOR_WEBHOOK_STATUSES', 'list', { option: 'webhookStatuses' }],
  'fault-seed': ['EMULATOR_FAULT_SEED', 'int', { fault: 'seed' }],
  'fault-webhook-drop': ['EMULATOR_FAULT_WEBHOOK_DROP', 'probability', { fault: 'webhookDrop' }],
  'fault-webhook-duplicate': [
    'EMULATOR_FAULT_WEBHOOK_DUPLICATE',
    'probability',
    { fault: 'webhookDuplicate' },
  ],
  'fault-webhook-delay': ['EMULATOR_FAULT_WEBHOOK_DELAY', 'probability', { fault: 'webhookDelay' }],
  'fault-webhook-delay-ms': ['EMULATOR_FAULT_WEBHOOK_DELAY_MS', 'int', { fault: 'webhookDelayMs' }],
  'fault-webhook-empty': ['EMULATOR_FAULT_WEBHOOK_EMPTY', 'probability', { fault: 'webhookEmptyBody' }],
  'fault-webhook-null': ['EMULATOR_FAULT_WEBHOOK_NULL', 'probability', { fault: 'webhookNullBody' }],
  'fault-5xx': ['EMULATOR_FAULT_5XX', 'probability', { fault: 'serverError' }],
  'fault-lost-response': ['EMULATOR_FAULT_LOST_RESPONSE', 'probability', { fault: 'lostResponse' }],
  'fault-latency-ms': ['EMULATOR_FAULT_LATENCY_MS', 'int', { fault: 'latencyMs' }],
};

const PARSERS: Record<Kind, z.ZodType> = {
  int: z.coerce.number().int().min(0),
  number: z.coerce.number().positive(),
  probability: z.coerce.number().min(0).max(1),
  string: z.string().min(1),
  list: z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
  ),
};

const DEFAULT_PORT = 8765;
const DEFAULTS = resolveSettings({ port: DEFAULT_PORT }) as unknown as Record<string, unknown>;

/** What a flag is when it is not given: the emulator's own default, "off" for faults. */
function defaultOf(flag: string, target: (typeof SPEC)[string][2]): string {
  if ('fault' in target)
    return flag === 'fault-seed' ? 'the --seed' : flag === 'fault-webhook-delay-ms' ? '1000' : '0 (off)';
  const value = DEFAULTS[target.option];
  if (Array.isArray(value)) return value.join(',');
  return value === undefined ? '' : String(value);
}

const USAGE = `Usage: npm run emulator -- [--flag value]...
Flags (or the environment variable in brackets), with their defaults:
${Object.entries(SPEC)
  .map(
    ([flag, [env, kind, target]]) =>
      `  --${flag.padEnd(26)} ${kind.padEnd(12)} ${`[${env}]`.padEnd(36)} ${defaultOf(flag, target)}`,
  )
  .join('\n')}
  --no-rate-limits                        ${'[EMULATOR_RATE_LIMITS=off]'.padEnd(36)} limits on (the documented ones)
Probabilities are 0..1; fault dice are seeded (--fault-seed, else --seed), so runs repeat exactly.
PORT and SUBMODEL_API_KEY are read too when EMULATOR_PORT / EMULATOR_API_KEY are unset.
Base URLs: http://HOST:PORT/v2/<endpoint id> (RunPod style) or http://HOST:PORT/api/v1/sl/<endpoint id>
(SubModel style); any endpoint id works. Authorization: Bearer <api key>.`;

function optionsFrom(argv: string[], env: NodeJS.ProcessEnv): EmulatorOptions {
  const { values } = parseArgs({
    strict: true,
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(SPEC).map((flag) => [flag, { type: 'string' as const }])),
      'no-rate-limits': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const options: Record<string, unknown> = {};
  const faults: Record<string, unknown> = {};
  for (const [flag, [envName, kind, target]] of Object.entries(SPEC)) {
    const fromFlag = (values as Record<string, string | boolean | undefined>)[flag];
    const raw = typeof fromFlag === 'string' ? fromFlag : env[envName];
    if (raw === undefined || raw === '') continue;
    const parsed = PARSERS[kind].safeParse(raw);
    if (!parsed.success) throw new Error(`--${flag} / ${envName}: "${raw}" is not a valid ${kind}`);
    if ('option' in target) options[target.option] = parsed.data;
    else faults[target.fault] = parsed.data;
  }
  // Common fallbacks: PORT as most servers read it, and the key local mode already has for the upstream.
  if (options.port === undefined && env.PORT) options.port = PARSERS.int.parse(env.PORT);
  options.port ??= DEFAULT_PORT;
  if (options.apiKey === undefined && env.SUBMODEL_API_KEY) options.apiKey = env.SUBMODEL_API_KEY;
  if (values['no-rate-limits'] || env.EMULATOR_RATE_LIMITS === 'off') options.rateLimitsEnabled = false;
  return { ...(options as EmulatorOptions), faults: faults as FaultOptions };
}

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = optionsFrom(process.argv.slice(2), process.env);
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('. ')[0] ?? error.message) : String(error);
    console.error(`npm run emulator: ${message.replace(/^Unknown option '(.+)'$/, 'unknown option $1')}`);
    console.error('  see: npm run emulator -- --help');
    process.exit(2);
  }
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    const port = options.port ?? DEFAULT_PORT;
    const explained = startupError(error, { port }).message.replaceAll('npm start', 'npm run emulator');
    console.error(`npm run emulator: ${explained.replace('PORT=', 'EMULATOR_PORT=')}`);
    process.exit(1);
  }
  const base = emulator.baseUrlFor('demo');
  console.log(`SubModel emulator listening on ${emulator.url}`);
  console.log(`  base URLs: ${base}  or  ${emulator.baseUrlFor('demo', 'sl')}  (any endpoint id works)`);
  console.log(`  API key:   ${emulator.apiKey}`);
  console.log(`  faults:    ${JSON.stringify(emulator.getFaults())}`);
  console.log('Try:');
  console.log(
    `  curl -s -X POST ${base}/run -H 'Authorization: Bearer ${emulator.apiKey}' -H 'Content-Type: application/json' -d '{"input":{"prompt":"hello"}}'`,
  );
  console.log(`  curl -s ${base}/status/<id> -H 'Authorization: Bearer ${emulator.apiKey}'`);
  console.log(
    `  handlers (input.handler): echo, slow, image-base64, image-datauri, image-url, large, fail, flaky, stream, empty`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping emulator`);
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

await main();
