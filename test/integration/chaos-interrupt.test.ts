// An interrupted `npm run chaos` leaves nothing behind: its data folder is removed and its busy processes stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Gone, or a zombie waiting for its new parent to reap it: either way it runs no more. */
const running = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Resolves once no process of `pids` runs; the test's timeout bounds a process that never leaves. */
async function leave(pids: readonly number[]): Promise<void> {
  while (pids.some(running)) await new Promise((resolve) => setTimeout(resolve, 50));
}

interface Interrupted {
  code: number | null;
  dataDir: string;
  hogPids: number[];
  stderr: string;
}

/** Starts the chaos command with two busy processes and sends `signal` once stderr shows the line `when` matches. */
async function interrupt(signal: NodeJS.Signals, when: RegExp): Promise<Interrupted> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/chaos/run.ts', '--jobs', '100', '--hogs', '2', '--concurrency', '8'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  let dataDir = '';
  let hogPids: number[] = [];
  let sent = false;
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    stderr += `${line}\n`;
    const pids = /busy processes compete for the cores \(pids ([\d, ]+)\)/.exec(line);
    if (pids?.[1]) hogPids = pids[1].split(', ').map(Number);
    const dir = /data in (\S+)/.exec(line);
    if (dir?.[1]) dataDir = dir[1];
    if (!sent && when.test(line)) {
      sent = true;
      child.kill(signal);
    }
  });
  const [code] = await exited;
  return { code, dataDir, hogPids, stderr };
}

describe('npm run chaos interrupted', () => {
  it('by Ctrl-C once it reports progress: exits, its data folder gone and its busy processes stopped', async () => {
    const run = await interrupt('SIGINT', /requests answered, submitting ends in about \d+ s/);
    expect(run.stderr).toContain('SIGINT: stopping, removing');
    expect(run.code).toBe(130);
    expect(run.dataDir).toMatch(/archiver-chaos-/);
    expect(existsSync(run.dataDir)).toBe(false);
    expect(run.hogPids).toHaveLength(2);
    await leave(run.hogPids);
  }, 600_000);

  it('by SIGTERM as soon as the archiver is up: the same', async () => {
    const run = await interrupt('SIGTERM', /archiver up at /);
    expect(run.code).toBe(143);
    expect(existsSync(run.dataDir)).toBe(false);
    expect(run.hogPids).toHaveLength(2);
    await leave(run.hogPids);
  }, 600_000);
});
