// The chaos scenario waits for the jobs it causes upstream as long as a loaded machine needs, not 20 s.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HandlerContext } from '../../../local/emulator/index.ts';
import { UpstreamLedger } from '../../chaos/upstream-ledger.ts';

/** What a worker hands the ledger's handler when it picks the job up. */
const pickedUp = (jobId: string, chaosKey: string): HandlerContext =>
  ({
    input: { chaosKey, delegate: 'echo' },
    jobId,
    durationMs: 0,
    sleep: async () => undefined,
  }) as unknown as HandlerContext;

describe('the upstream ledger', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with a job that a starved worker picks up minutes after the submit', async () => {
    const ledger = new UpstreamLedger();
    let settled: { id?: string; error?: unknown } | undefined;
    ledger.awaitStarted('chaos-s1-ambiguous-reconcile-0').then(
      (id) => {
        settled = { id };
      },
      (error: unknown) => {
        settled = { error };
      },
    );
    // Three minutes pass without the job starting (a loaded machine): the wait goes on.
    await vi.advanceTimersByTimeAsync(180_000);
    expect(settled).toBeUndefined();
    await ledger.handler(pickedUp('up-1', 'chaos-s1-ambiguous-reconcile-0'));
    await vi.advanceTimersByTimeAsync(100);
    expect(settled).toEqual({ id: 'up-1' });
  });

  it('still ends a wait for a job that never starts, so a broken run says so', async () => {
    const ledger = new UpstreamLedger();
    const waiting = ledger.awaitStarted('never', 60_000);
    const failed = expect(waiting).rejects.toThrow('request never never started upstream');
    await vi.advanceTimersByTimeAsync(61_000);
    await failed;
  });
});
