// The slowed run's competing load: busy processes that take the cores from the archiver, as other work does.
import { type ChildProcess, spawn } from 'node:child_process';
import { adopt } from './children.ts';

/**
 * Each child spins in 100 ms slices and leaves as soon as its parent is gone (Ctrl-C, a crash), so a
 * hog never outlives the run that started it.
 */
const SPIN = `const parent = process.ppid;
for (;;) {
  const until = Date.now() + 100;
  while (Date.now() < until);
  try { process.kill(parent, 0); } catch { process.exit(0); }
}`;

export class CpuHog {
  private readonly children: ChildProcess[] = [];

  /** Starts `processes` busy loops at normal priority (the archiver gets no head start). */
  constructor(readonly processes: number) {
    for (let i = 0; i < processes; i++) {
      const child = adopt(spawn(process.execPath, ['-e', SPIN], { stdio: 'ignore' }));
      child.unref();
      this.children.push(child);
    }
  }

  /** The busy processes' ids, for the log (a caller can check they are gone after the run). */
  get pids(): number[] {
    return this.children.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  stop(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}
