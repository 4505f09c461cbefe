// The chaos suite: thousands of jobs (some queued) through local mode with every fault at once; nothing lost, forged or doubled.
import { describe, expect, it } from 'vitest';
import { runChaos } from '../chaos/engine.ts';
import { CI_JOBS, defaultChaosOptions } from '../chaos/options.ts';
import { formatReport } from '../chaos/report.ts';

describe('chaos', () => {
  it(
    `keeps every promise for ${CI_JOBS} jobs under webhook, upstream, storage, queue and process faults`,
    async () => {
      const started = Date.now();
      const report = await runChaos({
        ...defaultChaosOptions(),
        log: (line) => console.info(`[chaos +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`),
      });
      console.info(formatReport(report));

      const o = report.outcome;
      expect(report.jobs).toBeGreaterThanOrEqual(CI_JOBS);
      // The faults really happened.
      expect(report.emulator.webhooks.dropped).toBeGreaterThan(0);
      expect(report.emulator.webhooks.duplicated).toBeGreaterThan(0);
      expect(report.emulator.tooManyRequests - report.scenario.neighbour429).toBeGreaterThan(0);
      expect(report.emulator.injectedErrors).toBeGreaterThan(0);
      expect(report.storage.dynamodb.escaped + report.storage.s3.escaped).toBeGreaterThan(0);
      expect(report.scenario.killedPass?.claimed).toBeGreaterThan(0);
      expect(report.restarts).toBe(1);
      // The queue's faults too: redeliveries, 429s on /run met by the submitter, a submitter killed after a
      // /run answered, messages lost with the queue and re-sent by the sweeper.
      expect(o.queue.requests).toBeGreaterThanOrEqual(CI_JOBS * 0.08);
      expect(report.queue.injected).toBeGreaterThan(0);
      expect(report.queue.faults.redelivered).toBeGreaterThan(0);
      expect(o.queue.deferred).toBeGreaterThan(0);
      expect(report.scenario.killedSubmitter?.killedAfterRun).toBe(true);
      expect(o.queue.resent).toBeGreaterThan(0);
      // And no promise broke: settling ended because every job was final, not because time ran out.
      expect(report.settle.ending).toBe('final');
      expect(report.violations).toEqual([]);
      expect(o.lost).toBe(0);
      expect(o.forgedArchived).toBe(0);
      expect(o.duplicateArchives).toBe(0);
      expect(o.twoGpuJobsForOneRequest).toBe(0);
      expect(o.nonFinal).toBe(0);
      expect(o.expired).toBe(o.expectedExpired);
      expect(o.expectedExpired).toBeGreaterThan(0);
      expect(report.forged.rejected).toBeGreaterThan(0);
    },
    // Settling ends by quiescence within the options' cap; this only bounds a run that never ends.
    45 * 60_000,
  );
});
