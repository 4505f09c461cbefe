// The chaos suite excuses an ambiguous submit left open only when the upstream has no trace of its /run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../functions/core/job.ts';
import { type Emulator, startEmulator } from '../../../local/emulator/index.ts';
import { UpstreamLedger } from '../../chaos/upstream-ledger.ts';
import { waitsOutItsLife } from '../../chaos/waiting-out.ts';

const ENDPOINT = 'ep-waiting';

/** A workload job whose /run was cut in flight: SUBMITTING, ambiguous, due when its patience ends. */
const cut = (over: Partial<Job> = {}): Job => ({
  jobId: 'job-1',
  endpoint: ENDPOINT,
  state: 'SUBMITTING',
  origin: 'submitted',
  createdAt: '2026-12-02T10:00:00.000Z',
  runAttemptedAt: '2026-12-02T10:00:00.010Z',
  submitAmbiguous: true,
  dueAt: Date.parse('2026-12-03T10:30:00.000Z'),
  ...over,
});

describe('waiting out a job life', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    // No workers: a /run that arrives stays IN_QUEUE, so only the emulator (not the ledger) knows of it.
    emulator = await startEmulator({ workers: 0 });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('excuses a cut /run of which the upstream has no trace', () => {
    expect(waitsOutItsLife(cut(), 'key-none', new UpstreamLedger(), emulator)).toBe(true);
  });

  it('waits on a /run that arrived upstream and sits in its queue, though no worker took it yet', async () => {
    const response = await fetch(`${emulator.baseUrlFor(ENDPOINT)}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { chaosKey: 'key-queued' } }),
    });
    expect(response.status).toBe(200);
    expect(waitsOutItsLife(cut(), 'key-queued', new UpstreamLedger(), emulator)).toBe(false);
  });

  it('waits on a job whose GPU job ran, even if its record says ambiguous', async () => {
    const ledger = new UpstreamLedger();
    await ledger.handler({
      input: { chaosKey: 'key-ran', delegate: 'echo' },
      jobId: 'up-1',
      durationMs: 0,
      sleep: async () => undefined,
    } as unknown as Parameters<UpstreamLedger['handler']>[0]);
    expect(waitsOutItsLife(cut(), 'key-ran', ledger, emulator)).toBe(false);
  });

  it('waits on the jobs whose life ends inside the run, and on anything not an ambiguous, watched submit', () => {
    const ledger = new UpstreamLedger();
    const open = (over: Partial<Job>) => waitsOutItsLife(cut(over), 'key-none', ledger, emulator);
    expect(open({ policy: { ttl: 10_000 } })).toBe(false);
    expect(open({ submitAmbiguous: undefined })).toBe(false);
    expect(open({ runAttemptedAt: undefined })).toBe(false);
    expect(open({ upstreamId: 'up-9' })).toBe(false);
    // Out of the due index, nobody would ever settle it: that is a fault, not a wait.
    expect(open({ dueAt: undefined })).toBe(false);
    expect(open({ state: 'PENDING' })).toBe(false);
  });
});
