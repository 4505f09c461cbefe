// `npm run bench [-- --quick] [-- --only name,...] [-- --write]`: every benchmark against local mode, one table, a results file.
import { EventEmitter } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { bigOutput } from './big-output.ts';
import { captureThroughput } from './capture-throughput.ts';
import { coldStart } from './cold-start.ts';
import { lifecycle, lifecycleSinglePass } from './lifecycle.ts';
import { queueDrain, queueDrainPaced } from './queue-drain.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import type { Figure } from './support/figures.ts';
import { machineInfo, type Results, renderTable, writeResults } from './support/report.ts';
import { startBenchStores } from './support/stores.ts';
import { sweepGroups } from './sweep-groups.ts';
import { sweeper } from './sweeper.ts';
import { webhookVerification } from './webhook-verification.ts';

// The emulator adds one abort listener per webhook POST in flight to one signal (removed when each ends):
// above 10 at once Node warns of a leak that is not one.
EventEmitter.defaultMaxListeners = 256;

// The SDK warns once per process that Node 20 support ends in 2027; it says nothing about performance.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** The tracked figures, replaced only with --write; other runs keep theirs out of the tree (bench/.out is ignored). */
const TRACKED_RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));
const RUN_RESULTS = fileURLToPath(new URL('./.out/results.json', import.meta.url));
/** Wall time of a run on the project's 2-core machine, as measured (a busy machine takes longer). */
const EXPECTED = { quick: 'about 3 minutes', full: 'about 11 minutes' };

/** In running order. Items 3, 6 and 7 come from one run of jobs through the whole system (lifecycle). */
const BENCHMARKS: readonly Benchmark[] = [
  coldStart,
  captureThroughput,
  sweeper,
  sweepGroups,
  lifecycle,
  lifecycleSinglePass,
  bigOutput,
  webhookVerification,
  queueDrain,
  queueDrainPaced,
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      write: { type: 'boolean', default: false },
    },
  });
  const resultsPath = values.write ? TRACKED_RESULTS : RUN_RESULTS;
  const quick = values.quick ?? false;
  const only = values.only?.split(',').map((s) => s.trim().toLowerCase());
  const selected = BENCHMARKS.filter((b) => !only || only.some((name) => b.name.includes(name)));
  const started = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'archiver-bench-'));
  const stores = await startBenchStores(dataDir);
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  const errors: Results['errors'] = [];
  const log = (message: string) => console.log(message);
  const ctx: BenchContext = {
    quick,
    runs: quick ? 3 : 5,
    stores,
    log,
    detail: (key, value) => {
      details[key] = value;
    },
  };
  console.log(
    `submodel-archiver benchmarks (${quick ? 'quick' : 'full'}: medians of ${ctx.runs} runs; ${only ? 'a selection' : `${EXPECTED[quick ? 'quick' : 'full']} on 2 cores`})`,
  );
  try {
    for (const benchmark of selected) {
      const t0 = Date.now();
      log(`▶ ${benchmark.name}`);
      try {
        figures.push(...(await benchmark.run(ctx)));
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        errors.push({ benchmark: benchmark.name, error: message });
        log(`  failed: ${message}`);
      }
      log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await stores.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  figures.sort((a, b) => a.item - b.item);
  const results: Results = {
    date: new Date().toISOString(),
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    quick,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: machineInfo(),
    figures,
    details,
    errors,
  };
  console.log('');
  console.log(renderTable(figures));
  const missed = figures.filter((f) => f.pass === false).map((f) => f.key);
  console.log('');
  console.log(
    `${figures.length} figures, ${missed.length} goals missed${missed.length ? ` (${missed.join(', ')})` : ''}; ` +
      `took ${formatSeconds(results.durationSeconds)}. Written to ${relative(process.cwd(), resultsPath)}` +
      (values.write ? ' (the tracked figures).' : ' (bench/results.json unchanged; --write replaces it).'),
  );
  if (errors.length)
    console.log(`Benchmarks that failed to run: ${errors.map((e) => e.benchmark).join(', ')}`);
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeResults(resultsPath, results);
}

function formatSeconds(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

await main();
