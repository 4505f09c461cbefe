// Item 5: archiving a 20 MiB output: peak memory over baseline and throughput against a raw S3 upload.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../local/emulator/index.ts';
import type { ChildInput, ChildOutput } from './support/big-output-child.ts';
import type { BenchContext, Benchmark } from './support/context.ts';
import { submitUpstream } from './support/emulator-jobs.ts';
import { type Figure, figure } from './support/figures.ts';
import { median } from './support/stats.ts';
import { waitUntil } from './support/timing.ts';

const CHILD = fileURLToPath(new URL('./support/big-output-child.ts', import.meta.url));
const OUTPUT_BYTES = 20 * 1024 * 1024;
const MiB = 1024 * 1024;

function runChild(input: ChildInput): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env },
    });
    child.once('message', (message: { ok: boolean; output?: ChildOutput; error?: string }) => {
      if (message.ok && message.output) resolve(message.output);
      else reject(new Error(message.error ?? 'child failed'));
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`big-output child exited with ${code}`));
    });
    child.send(input);
  });
}

export const bigOutput: Benchmark = {
  name: 'big output',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const emulator = await startEmulator({ jobDurationMs: 0, startDelayMs: 0, rateLimitsEnabled: false });
    const table = await ctx.stores.createTable('big-output');
    try {
      const endpoint = 'big-endpoint';
      const runs = ctx.runs;
      // Each archive run needs its own upstream job (a capture takes it out of the due index for good).
      const bodies = Array.from({ length: runs }, (_, i) => [
        { input: { handler: 'large', bytes: 64 * 1024, durationMs: 0, seed: 1000 + i } },
        { input: { handler: 'large', bytes: OUTPUT_BYTES, durationMs: 0, seed: i } },
      ]).flat();
      const ids = await submitUpstream(emulator, endpoint, bodies, 4);
      await waitUntil(() => emulator.stats.jobs.completed >= bodies.length, 120_000, 'large outputs');
      const payloadBytes = Buffer.byteLength(emulator.jobs.statusJson(ids[1] ?? '') ?? '');
      const archive: ChildOutput[] = [];
      const raw: ChildOutput[] = [];
      for (let run = 0; run < runs; run++) {
        const input: ChildInput = {
          mode: 'archive',
          dynamoEndpoint: ctx.stores.dynamoEndpoint,
          s3Endpoint: ctx.stores.s3Endpoint,
          region: ctx.stores.region,
          credentials: ctx.stores.credentials,
          table,
          bucket: ctx.stores.bucket,
          upstream: { baseUrl: emulator.baseUrlFor(endpoint), apiKey: emulator.apiKey },
          warmUpstreamId: ids[2 * run] ?? '',
          bigUpstreamId: ids[2 * run + 1] ?? '',
          payloadBytes,
        };
        // Alternate which goes first, so drift on a shared machine favours neither.
        const pair = run % 2 === 0 ? (['archive', 'raw'] as const) : (['raw', 'archive'] as const);
        for (const mode of pair) {
          const out = await runChild({ ...input, mode });
          (mode === 'archive' ? archive : raw).push(out);
        }
      }
      const mbps = (o: ChildOutput) => o.storedBytes / MiB / (o.ms / 1000);
      const archiveRate = archive.map(mbps);
      const rawRate = raw.map(mbps);
      const archivePeak = archive.map((o) => o.peakOverBaseline / MiB);
      const rawPeak = raw.map((o) => o.peakOverBaseline / MiB);
      ctx.log(
        `  archive ${median(archiveRate).toFixed(1)} MiB/s, peak +${median(archivePeak).toFixed(0)} MiB; ` +
          `raw upload ${median(rawRate).toFixed(1)} MiB/s, peak +${median(rawPeak).toFixed(0)} MiB`,
      );
      ctx.detail('bigOutput', {
        payloadBytes,
        archive: archive.map((o) => ({ ...o, ms: Math.round(o.ms) })),
        raw: raw.map((o) => ({ ...o, ms: Math.round(o.ms) })),
      });
      const payloadMiB = payloadBytes / MiB;
      return [
        figure({
          item: 5,
          key: 'bigOutput.peakMemory',
          label: `archive ${payloadMiB.toFixed(0)} MiB output: peak RSS over baseline`,
          value: median(archivePeak),
          unit: 'MiB',
          runs: archivePeak,
          baseline: { label: 'the payload', value: payloadMiB, unit: 'MiB' },
          goal: { on: 'ratio', op: '<=', target: 2.5 },
          note: `raw upload of the same bytes: +${median(rawPeak).toFixed(1)} MiB`,
        }),
        figure({
          item: 5,
          key: 'bigOutput.throughput',
          label: `archive ${payloadMiB.toFixed(0)} MiB output: throughput`,
          value: median(archiveRate),
          unit: 'MiB/s',
          runs: archiveRate,
          baseline: {
            label: 'raw S3 upload, same bytes',
            value: median(rawRate),
            unit: 'MiB/s',
            runs: rawRate,
          },
          goal: { on: 'ratio', op: '>=', target: 0.7 },
        }),
      ];
    } finally {
      await emulator.stop();
      await ctx.stores.deleteTable(table);
    }
  },
};
