// `npm start`: the whole system on one machine (embedded stores, SubModel emulator, API, sweeper), with a demo.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { envSchema } from '../functions/config.ts';
import { runAsDeployed } from '../local/as-deployed/main.ts';
import { runDemo } from '../local/demo/run-demo.ts';
import { LOCAL_BUCKET, LOCAL_TABLE, type LocalStackOptions, startLocalStack } from '../local/stack.ts';

// The SDK's Node 20 end-of-support notice: Lambda runs Node 22; locally it is noise on every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `Usage: npm start [-- options]      run submodel-archiver locally, with a demo workload
       npm run demo                   run the demo once on a fresh data folder and exit (non-zero if a job is lost)

Options:
  --no-demo          serve only
  --demo-only        run the demo, print the summary and exit
  --port N           API port (PORT, default 8787)
  --data-dir DIR     where the local DynamoDB and S3 keep their data (ARCHIVER_DATA_DIR, default .archiver)
  --as-deployed      run the bundles cdk synth writes, each in its own process with its synthesized environment

Environment:
  SUBMODEL_BASE_URL, SUBMODEL_API_KEY   a real endpoint instead of the emulator (base URL up to the endpoint id)
  AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3   other stores (DynamoDB Local, AWS) instead of the embedded ones
  PUBLIC_BASE_URL    URL the upstream calls back (a tunnel, for a real upstream)
  ARCHIVER_TOKEN     require "Authorization: Bearer <token>" on the /jobs routes
  SWEEP_INTERVAL_MS  sweeper timer (default 2000); any variable of functions/config.ts is honoured too
`;

function options() {
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

function banner(url: string, dataDir: string, emulatorUrl: string | undefined, token: string | undefined) {
  const auth = token ? ` \\\n  -H 'authorization: Bearer ${token}'` : '';
  return `
submodel-archiver is running locally
  browser    ${url}/   (the archive browser)
  API        ${url}   (POST /jobs, GET /jobs, GET /jobs/{id}, POST /jobs/track, POST /jobs/{id}/cancel)
  upstream   ${emulatorUrl ? `${emulatorUrl}  (SubModel emulator)` : process.env.SUBMODEL_BASE_URL}
  data       ${resolve(dataDir)}  (DynamoDB table ${LOCAL_TABLE}, S3 bucket ${LOCAL_BUCKET})

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
    throw new Error('SUBMODEL_BASE_URL needs SUBMODEL_API_KEY');

  const stackOptions: LocalStackOptions = {
    port: demoOnly ? 0 : Number(args.port ?? process.env.PORT ?? 8787),
    dataDir,
    config: configFromEnv(),
    ...(process.env.PUBLIC_BASE_URL && { publicBaseUrl: process.env.PUBLIC_BASE_URL }),
    ...(process.env.AWS_ENDPOINT_URL_DYNAMODB && {
      dynamo: { endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB },
    }),
    ...(process.env.AWS_ENDPOINT_URL_S3 && { s3: { endpoint: process.env.AWS_ENDPOINT_URL_S3 } }),
    ...(realUpstream && { upstream: { baseUrl: realUpstream, apiKey: process.env.SUBMODEL_API_KEY ?? '' } }),
    ...(process.env.SWEEP_INTERVAL_MS && { sweepIntervalMs: Number(process.env.SWEEP_INTERVAL_MS) }),
    ...(token && { authToken: token }),
    // EventBridge stands in as stdout locally (EVENTS_FORWARD_URL also POSTs each event somewhere).
    onEvent: (type, detail) =>
      process.stdout.write(
        `        event ${type}: ${detail.jobId} ${detail.upstreamStatus ?? ''}${detail.captureSource ? ` via ${detail.captureSource}` : ''}\n`,
      ),
  };
  const started = Date.now();
  const stack = await startLocalStack(stackOptions);
  process.stdout.write(banner(stack.url, dataDir, stack.emulator?.url, token));
  process.stdout.write(`  started in ${Date.now() - started} ms\n`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.stdout.write('\nstopping: letting in-flight requests and the current sweep finish...\n');
      await stack.stop();
      process.stdout.write('stopped; everything archived so far is in the data folder.\n');
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
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
