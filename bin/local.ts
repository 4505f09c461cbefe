// `npm start`: the whole system on one machine (embedded stores, SubModel emulator, API, sweeper), with a demo.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { envSchema } from '../functions/config.ts';
import { runAsDeployed } from '../local/as-deployed/main.ts';
import { runDemo } from '../local/demo/run-demo.ts';
import {
  LOCAL_BUCKET,
  LOCAL_ENDPOINT_ID,
  LOCAL_TABLE,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../local/stack.ts';
import { startupError } from '../local/startup-errors.ts';

// The SDK's Node 20 end-of-support notice: Lambda runs Node 22; locally it is noise on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `Usage: npm start [-- options]      run submodel-archiver locally, with a demo workload
       npm run demo                   run the demo once on a fresh data folder and exit (non-zero if a job is lost)

Options:
  --no-demo          serve only
  --demo-only        run the demo on fresh embedded stores in a temporary folder, print the summary,
                     remove the folder and exit
  --port N           API port (PORT, default 8787)
  --data-dir DIR     where the local DynamoDB and S3 keep their data (ARCHIVER_DATA_DIR, default .archiver)
  --as-deployed      run the bundles cdk synth writes, each in its own process with its synthesized environment

Environment:
  SUBMODEL_BASE_URL, SUBMODEL_API_KEY   a real endpoint instead of the emulator (base URL up to the endpoint id)
  AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS   other stores (DynamoDB Local, AWS)
                     instead of the embedded ones
  PUBLIC_BASE_URL    URL the upstream calls back (a tunnel, for a real upstream)
  ARCHIVER_TOKEN     require "Authorization: Bearer <token>" on the /jobs routes
  ARCHIVER_ALLOWED_HOSTS  comma-separated host names the API answers to besides 127.0.0.1 and localhost
  SWEEP_INTERVAL_MS  sweeper timer (default 2000); any variable of functions/config.ts is honoured too
`;

function options() {
  try {
    const { values } = parseArgs({
      options: {
        'no-demo': { type: 'boolean', default: false },
        'demo-only': { type: 'boolean', default: false },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'as-deployed': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    return values;
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('. ')[0] ?? error.message) : String(error);
    throw new Error(
      `${message.replace(/^Unknown option '(.+)'$/, 'unknown option $1')}\n  see: npm start -- --help`,
    );
  }
}

/** PORT / --port as a number, with the name of where it came from in the message. */
function portFrom(text: string | undefined, from: string): number {
  if (text === undefined) return 8787;
  if (!/^\d+$/.test(text.trim()) || Number(text) > 65535)
    throw new Error(`${from} must be a whole number from 0 to 65535 (0 picks a free port), got "${text}"`);
  return Number(text);
}

/** Archiver config variables set in the environment override the local defaults. */
function configFromEnv(): Record<string, string> {
  const names = Object.keys(envSchema.shape);
  const passed: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (value !== undefined && name !== 'PUBLIC_BASE_URL') passed[name] = value;
  }
  return passed;
}

function storesLine(stack: LocalStack, dataDir: string): string {
  const { stores } = stack;
  const dynamo =
    stores.dynamoKind === 'external'
      ? `DynamoDB ${stores.dynamoEndpoint} (AWS_ENDPOINT_URL_DYNAMODB), table ${LOCAL_TABLE}`
      : `DynamoDB table ${LOCAL_TABLE}`;
  const s3External = !stores.s3Endpoint.startsWith('http://127.0.0.1') || process.env.AWS_ENDPOINT_URL_S3;
  const s3 = s3External
    ? `S3 ${stores.s3Endpoint} (AWS_ENDPOINT_URL_S3), bucket ${LOCAL_BUCKET}`
    : `S3 bucket ${LOCAL_BUCKET}`;
  const embedded = stores.dynamoKind !== 'external' || !s3External;
  return embedded ? `${resolve(dataDir)}  (${dynamo}, ${s3})` : `${dynamo}; ${s3}`;
}

function upstreamLines(stack: LocalStack): string {
  const emulator = stack.emulator;
  if (emulator === undefined) return `  upstream   ${process.env.SUBMODEL_BASE_URL}  (SUBMODEL_BASE_URL)`;
  return [
    `  upstream   SubModel emulator, endpoint id ${LOCAL_ENDPOINT_ID}, API key ${emulator.apiKey}`,
    `             ${emulator.baseUrlFor(LOCAL_ENDPOINT_ID)}/run   (RunPod style)`,
    `             ${emulator.baseUrlFor(LOCAL_ENDPOINT_ID, 'sl')}/run   (SubModel style)`,
    `             its jobs are kept in the data folder across restarts${emulator.restored ? ` (${emulator.restored} taken over from the last run)` : ''}; running ones start again`,
  ].join('\n');
}

function banner(stack: LocalStack, dataDir: string, token: string | undefined) {
  const url = stack.url;
  // Never the token itself: the banner ends up in terminals, screenshots and logs.
  const auth = token ? ` \\\n  -H "authorization: Bearer $ARCHIVER_TOKEN"` : '';
  return `
submodel-archiver is running locally
  browser    ${url}/   (the archive browser)
  API        ${url}   (POST /jobs, GET /jobs, GET /jobs/{id}, POST /jobs/track, POST /jobs/{id}/cancel)${token ? '\n             the /jobs routes want the bearer token in ARCHIVER_TOKEN' : ''}
${upstreamLines(stack)}
  data       ${storesLine(stack, dataDir)}

Try it:
  curl -s -X POST ${url}/jobs -H 'content-type: application/json'${auth} \\
    -d '{"input":{"prompt":"a lighthouse at dawn"}}'
  curl -s ${url}/jobs/<jobId>${auth}
  curl -s '${url}/jobs?state=ARCHIVED&limit=5'${auth}
`;
}

async function main() {
  const args = options();
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const demoOnly = args['demo-only'];
  if (args['as-deployed']) {
    const port = demoOnly ? 0 : Number(args.port ?? process.env.PORT ?? 8787);
    const token = process.env.ARCHIVER_TOKEN || undefined;
    return runAsDeployed({ port, token, demo: !args['no-demo'], demoOnly });
  }
  const dataDir = demoOnly
    ? mkdtempSync(join(tmpdir(), 'submodel-archiver-demo-'))
    : (args['data-dir'] ?? process.env.ARCHIVER_DATA_DIR ?? '.archiver');
  const token = process.env.ARCHIVER_TOKEN || undefined;
  const realUpstream = process.env.SUBMODEL_BASE_URL;
  if (realUpstream && !process.env.SUBMODEL_API_KEY)
    throw new Error('SUBMODEL_BASE_URL needs SUBMODEL_API_KEY (the API key of that endpoint)');
  const port = demoOnly
    ? 0
    : args.port !== undefined
      ? portFrom(args.port, '--port')
      : portFrom(process.env.PORT, 'PORT');
  // The demo runs on fresh stores it throws away: jobs written to a kept external table would point at
  // S3 objects removed with the temporary folder.
  const externalDynamo = demoOnly ? undefined : process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const externalS3 = demoOnly ? undefined : process.env.AWS_ENDPOINT_URL_S3;
  const externalSqs = demoOnly ? undefined : process.env.AWS_ENDPOINT_URL_SQS;
  if (demoOnly && (process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL_S3))
    process.stdout.write('(demo: AWS_ENDPOINT_URL_* ignored; the demo uses fresh embedded stores)\n');

  const stackOptions: LocalStackOptions = {
    port,
    dataDir,
    config: configFromEnv(),
    ...(process.env.PUBLIC_BASE_URL && { publicBaseUrl: process.env.PUBLIC_BASE_URL }),
    ...(externalDynamo && { dynamo: { endpoint: externalDynamo } }),
    ...(externalS3 && { s3: { endpoint: externalS3 } }),
    ...(externalSqs && { sqs: { endpoint: externalSqs } }),
    ...(realUpstream && { upstream: { baseUrl: realUpstream, apiKey: process.env.SUBMODEL_API_KEY ?? '' } }),
    ...(process.env.SWEEP_INTERVAL_MS && { sweepIntervalMs: Number(process.env.SWEEP_INTERVAL_MS) }),
    ...(token && { authToken: token }),
    ...(process.env.ARCHIVER_ALLOWED_HOSTS && {
      allowedHosts: process.env.ARCHIVER_ALLOWED_HOSTS.split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    }),
    // EventBridge stands in as stdout locally (EVENTS_FORWARD_URL also POSTs each event somewhere).
    onEvent: (type, detail) =>
      process.stdout.write(
        `        event ${type}: ${detail.jobId} ${detail.upstreamStatus ?? ''}${detail.captureSource ? ` via ${detail.captureSource}` : ''}\n`,
      ),
  };
  const started = Date.now();
  let stack: LocalStack;
  try {
    stack = await startLocalStack(stackOptions);
  } catch (error) {
    if (demoOnly) rmSync(dataDir, { recursive: true, force: true });
    throw startupError(error, { port, dynamoEndpoint: externalDynamo, s3Endpoint: externalS3 });
  }
  if (!demoOnly) process.stdout.write(banner(stack, dataDir, token));
  process.stdout.write(`  started in ${Date.now() - started} ms\n`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.stdout.write('\nstopping: letting in-flight requests and the current sweep finish...\n');
      await stack.stop();
      if (demoOnly) {
        rmSync(dataDir, { recursive: true, force: true });
        process.stdout.write('stopped; the demo folder was removed.\n');
        return;
      }
      process.stdout.write(
        "stopped; everything archived so far is in the data folder, and the emulator's jobs too (running ones start again next time).\n",
      );
    })();
    return stopping;
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));

  const runIt = !args['no-demo'] && (demoOnly || !realUpstream);
  if (realUpstream && !args['no-demo'])
    process.stdout.write("\n(demo skipped: it needs the emulator's job handlers)\n");
  if (runIt) {
    const result = await runDemo(stack.url, token ? { token } : {});
    if (demoOnly) {
      await stop();
      return result.allArchived ? 0 : 1;
    }
  }
  process.stdout.write(`\nServing on ${stack.url}; Ctrl-C to stop.\n`);
  await new Promise(() => undefined);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
