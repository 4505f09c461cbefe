// Webhook bodies shaped like the upstream's: the status object plus `input` and `webhook`, keys sorted.
import { deterministicText } from '../../local/emulator/index.ts';

export interface FinishedJob {
  upstreamId: string;
  webhookUrl: string;
  outputBytes: number;
  seed: number;
}

/** The status object /status would serve for a COMPLETED text job. */
export function completedStatus(job: Pick<FinishedJob, 'upstreamId' | 'outputBytes' | 'seed'>) {
  return {
    delayTime: 1187,
    executionTime: 4021,
    id: job.upstreamId,
    output: { text: deterministicText(job.outputBytes, job.seed) },
    status: 'COMPLETED',
    workerId: 'bench-worker-1',
  };
}

/** The webhook body the real service sends for that job. */
export function webhookBody(job: FinishedJob): string {
  const status = completedStatus(job);
  return JSON.stringify({
    delayTime: status.delayTime,
    executionTime: status.executionTime,
    id: status.id,
    input: { prompt: 'a lighthouse at dawn' },
    output: status.output,
    status: status.status,
    webhook: job.webhookUrl,
    workerId: status.workerId,
  });
}
