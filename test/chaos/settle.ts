// Waiting for a chaos run to settle: every job its clients know of final and announced.
import { isTerminal } from '../../functions/core/job-state.ts';
import type { ChaosClient } from './client.ts';
import { sleep } from './rng.ts';
import type { ChaosSystem } from './system.ts';
import type { JobSpec } from './workload.ts';

const CHECK_CONCURRENCY = 16;

/**
 * Waits until every job the clients know of is final. A job the upstream certainly refused (REJECTED with a
 * certain refusal) is submitted again, as its client would: the key is free again, so that makes a new job.
 */
export async function settle(
  system: ChaosSystem,
  client: ChaosClient,
  deadline: number,
  log: (line: string) => void,
) {
  const view = system.clean();
  const final = new Set<string>();
  try {
    let lastReport = 0;
    for (;;) {
      const open: string[] = [];
      const resubmit: JobSpec[] = [];
      const records = [...client.records.values()];
      let i = 0;
      const worker = async () => {
        while (i < records.length) {
          const record = records[i++];
          const jobId = record?.jobIds.at(-1);
          if (!record || !jobId || record.failure || final.has(jobId)) continue;
          const job = await view.jobs.get(jobId);
          // Settled and announced: terminal, and out of the due index.
          if (!job || !isTerminal(job.state) || job.dueAt !== undefined) open.push(jobId);
          else if (
            job.state === 'REJECTED' &&
            record.spec.expect === 'archived' &&
            /^UPSTREAM_(RATE_LIMITED|UNREACHABLE)/.test(job.reason ?? '')
          )
            resubmit.push(record.spec);
          else final.add(jobId);
        }
      };
      await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker));
      for (const spec of resubmit) await client.submit(spec);
      if (open.length === 0 && resubmit.length === 0) return;
      if (Date.now() > deadline) {
        log(`settle deadline passed with ${open.length} jobs still open`);
        return;
      }
      if (Date.now() - lastReport > 10_000) {
        log(`${open.length} jobs not final yet${open.length <= 5 ? ` (${open.join(', ')})` : ''}`);
        lastReport = Date.now();
      }
      await sleep(1000);
    }
  } finally {
    view.close();
  }
}
