// `npm run chaos -- --jobs N --seed S --slow`: one chaos run outside vitest; prints the figures, exits 1 on any violation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChildren } from './children.ts';
import { runChaos } from './engine.ts';
import { defaultChaosOptions, parseChaosArgs } from './options.ts';
import { formatReport } from './report.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const started = Date.now();
const options = parseChaosArgs(process.argv.slice(2), {
  ...defaultChaosOptions(),
  log: (line) => process.stderr.write(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`),
});
// A folder of our own, so Ctrl-C can remove it too (a --data folder is the caller's and stays).
const ownDir = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'archiver-chaos-'));
const removeOwnDir = () => {
  if (ownDir) rmSync(ownDir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // The stores and the emulator run in this process and leave with it; its children are stopped first.
    process.stderr.write(`\n${signal}: stopping${ownDir ? `, removing ${ownDir}` : ''}\n`);
    stopChildren();
    removeOwnDir();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}
// A fault in the harness itself (an unhandled rejection) ends the process without the finally below.
process.once('uncaughtException', (error) => {
  process.stderr.write(
    `\n${error.stack ?? String(error)}\nthe run failed${ownDir ? `; removing ${ownDir}` : ''}\n`,
  );
  stopChildren();
  removeOwnDir();
  process.exit(1);
});
try {
  const report = await runChaos({ ...options, ...(ownDir && { dataDir: ownDir }) });
  process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.violations.length === 0 ? 0 : 1;
} finally {
  removeOwnDir();
}
