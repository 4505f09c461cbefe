// The child processes a chaos run started (busy loops, the rate-limit neighbour), so an interrupted run stops them.
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

/** Keeps `child` on the list until it exits. */
export function adopt<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Kills every child still running, synchronously: a signal handler calls it just before the process exits,
 * when no finally block will run.
 */
export function stopChildren(): number {
  let stopped = 0;
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) stopped++;
  }
  running.clear();
  return stopped;
}
