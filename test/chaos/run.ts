// `npm run chaos -- --jobs N --seed S`: one chaos run outside vitest; prints the figures, exits 1 on any violation.
import { runChaos } from './engine.ts';
import { defaultChaosOptions, parseChaosArgs } from './options.ts';
import { formatReport } from './report.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const started = Date.now();
const options = parseChaosArgs(process.argv.slice(2), {
  ...defaultChaosOptions(),
  log: (line) => process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`),
});
const report = await runChaos(options);
process.stdout.write(`${formatReport(report)}\n`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
