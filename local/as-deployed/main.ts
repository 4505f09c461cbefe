// `npm start -- --as-deployed`: the synthesized bundles behind the local gateway, with the demo workload.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../demo/run-demo.ts';
import { startAsDeployedStack } from './index.ts';

export interface AsDeployedRunOptions {
  port: number;
  token?: string | undefined;
  /** Run the demo (and, with demoOnly, exit with its verdict). */
  demo: boolean;
  demoOnly: boolean;
}

/** Local mode's look-timing (first look and later looks 5 s) as stack configuration, since synth sets the rest. */
const LOCAL_CONTEXT = { firstLookSeconds: 5, lookIntervalSeconds: 5, logLevel: 'warn' };

/** Starts everything, prints where it is, runs the demo; resolves with the exit code (never, while serving). */
export async function runAsDeployed(options: AsDeployedRunOptions): Promise<number> {
  // A fresh folder each time: the table is in memory, so the archive must not outlive it.
  const dataDir = mkdtempSync(join(tmpdir(), 'submodel-archiver-as-deployed-'));
  const started = Date.now();
  const stack = await startAsDeployedStack({
    port: options.port,
    dataDir,
    context: LOCAL_CONTEXT,
    ...(options.token && { authToken: options.token }),
    onLog: (id, line) => {
      // Metric lines (EMF) are CloudWatch's business; errors and warnings are the operator's.
      if (!line.startsWith('{"_aws"')) process.stdout.write(`        ${id}: ${line}\n`);
    },
    onEvent: (event) => {
      const detail = event.detail as { jobId?: string; upstreamStatus?: string; captureSource?: string };
      process.stdout.write(
        `        event ${event.detailType}: ${detail.jobId} ${detail.upstreamStatus ?? ''}${detail.captureSource ? ` via ${detail.captureSource}` : ''}\n`,
      );
    },
  });
  const fns = Object.values(stack.functions)
    .map((fn) => {
      const init = fn.pool.initDurations[0];
      const kb = Math.round(statSync(join(fn.spec.assetDir, 'index.mjs')).size / 1024);
      return `  ${fn.spec.id.padEnd(8)}   ${String(kb).padStart(5)} KB  init ${init === undefined ? '?' : Math.round(init)} ms  ${fn.spec.assetDir}`;
    })
    .join('\n');
  process.stdout.write(`
submodel-archiver is running as deployed: the bundles cdk synth wrote, each in its own process
  API        ${stack.url}
  upstream   ${stack.emulator.url}  (SubModel emulator, behind TLS as the stack requires https)
  data       ${dataDir}  (DynamoDB in memory, S3 on disk)
${fns}
  started in ${Date.now() - started} ms
`);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stack.stop();
    return stopping;
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));

  if (options.demo || options.demoOnly) {
    const result = await runDemo(stack.url, options.token ? { token: options.token } : {});
    const calls = stack.recorder.calls.length;
    process.stdout.write(
      `\n${calls} AWS calls recorded, ${stack.recorder.unclassified.length} unclassified.\n`,
    );
    if (options.demoOnly) {
      await stop();
      return result.allArchived ? 0 : 1;
    }
  }
  process.stdout.write(`\nServing on ${stack.url}; Ctrl-C to stop.\n`);
  await new Promise(() => undefined);
  return 0;
}
