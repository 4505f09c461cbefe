// The script a fresh `node` runs per cold-start sample: import a bundle, invoke it once, print the timings.

/**
 * Plain JavaScript (the measured process must not load a TypeScript loader). argv: bundle path, event JSON,
 * `scheduled` or `http`. Prints `{readyMs, importMs, invokeMs, readyCpuMs, statusCode}`; readyMs counts from
 * process start, readyCpuMs is the CPU time (all threads) the process had used by then.
 */
export const PROBE_SOURCE = `
import { pathToFileURL } from 'node:url';
const [bundle, eventJson, kind] = process.argv.slice(2);
const t0 = performance.now();
const mod = await import(pathToFileURL(bundle).href);
const ready = performance.now();
const cpu = process.cpuUsage();
if (typeof mod.handler !== 'function') throw new Error('no handler export in ' + bundle);
const event = JSON.parse(eventJson);
const context = { getRemainingTimeInMillis: () => 60000, functionName: 'probe', awsRequestId: 'probe' };
const result = kind === 'scheduled' ? await mod.handler(event, context) : await mod.handler(event, context);
const done = performance.now();
process.stdout.write(JSON.stringify({
  readyMs: ready,
  importMs: ready - t0,
  invokeMs: done - ready,
  readyCpuMs: (cpu.user + cpu.system) / 1000,
  statusCode: result && typeof result === 'object' && 'statusCode' in result ? result.statusCode : null,
}));
`;
