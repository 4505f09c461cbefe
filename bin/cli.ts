// Entry of the `archiver` CLI (bin/archiver.mjs loads it): binds the process to cli/main.ts and sets the exit code.
import { runCli } from '../cli/main.ts';

const interrupt = new AbortController();
const onSigint = () => {
  // First Ctrl-C: commands stop at a safe point and print how to continue; a second one quits at once.
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
};
process.on('SIGINT', onSigint);
// `archiver list | head`: a closed pipe is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  signal: interrupt.signal,
  now: () => Date.now(),
});
process.off('SIGINT', onSigint);
