// A submitter killed mid-batch: right after one of its /run calls was answered, before that answer was recorded.
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ServiceDeps } from '../../functions/core/services.ts';
import { drainBatch, parseMessage, type ReceivedMessage } from '../../functions/core/submitter.ts';
import type { UpstreamClient } from '../../functions/core/upstream-port.ts';
import { killableUpstream } from './killed-sweep.ts';
import { hang, type KillSwitch } from './storage-faults.ts';
import type { ChaosSystem } from './system.ts';

export interface KilledSubmitter {
  /** Messages of the batch it was draining. */
  batch: number;
  /** /run calls it started, and those answered before it died (the last of them is the one it never recorded). */
  runsCalled: number;
  runsAnswered: number;
  /** Whether the kill came from a /run answer (false: the batch ended first, then the process died unacknowledged). */
  killedAfterRun: boolean;
  /** The jobs of its batch: their job events may go out twice when the sweeper announces them. */
  jobIds: string[];
  ranMs: number;
}

/** Receives this many times at most while looking for the batch's messages (receives may fail: storage faults). */
const MAX_RECEIVES = 50;

/**
 * Receives the messages of `jobIds` as the dying submitter's poller, keeping the others out of sight until it
 * has them (then gives them back at once), so the batch is exactly those jobs whatever else the queue holds.
 */
async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  jobIds: ReadonlySet<string>,
): Promise<ReceivedMessage[]> {
  const batch: ReceivedMessage[] = [];
  const others: Message[] = [];
  const found = new Set<string>();
  for (
    let receives = 0, empty = 0;
    found.size < jobIds.size && empty < 2 && receives < MAX_RECEIVES;
    receives++
  ) {
    const received = await sqs
      .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }))
      .then((r) => r.Messages ?? [])
      .catch(() => undefined);
    if (received === undefined) continue;
    empty = received.length === 0 ? empty + 1 : 0;
    for (const message of received) {
      const jobId = parseMessage(message.Body ?? '')?.jobId;
      if (jobId && jobIds.has(jobId)) {
        found.add(jobId);
        batch.push({ messageId: message.MessageId ?? '', body: message.Body ?? '' });
      } else others.push(message);
    }
  }
  await Promise.all(
    others.map((m) =>
      sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        )
        // Not given back: it comes back after its visibility timeout all the same.
        .catch(() => undefined),
    ),
  );
  return batch;
}

/** The upstream of a submitter that dies as the `killAfter`-th /run answer comes in, before it can record it. */
function dyingUpstream(
  upstream: UpstreamClient,
  kill: KillSwitch,
  killAfter: number,
  counts: { called: number; answered: number },
  onKill: () => void,
): UpstreamClient {
  return {
    ...killableUpstream(upstream, kill),
    run: async (...args: Parameters<UpstreamClient['run']>) => {
      if (kill.killed) return hang();
      counts.called++;
      let answer: Awaited<ReturnType<UpstreamClient['run']>>;
      try {
        answer = await upstream.run(...args);
      } catch (error) {
        if (kill.killed) return hang();
        throw error;
      }
      if (kill.killed) return hang();
      counts.answered++;
      if (counts.answered >= killAfter) {
        kill.kill();
        onKill();
        return hang();
      }
      return answer;
    },
  };
}

/**
 * With the regular pollers paused (the caller's part), drains the messages of `jobIds` on a runtime of its
 * own and kills it as the `killAfterRuns`-th /run is answered: that job has an upstream job whose id is never
 * recorded, the /run calls in flight are lost with it, the jobs whose slot had not come are left with their run
 * claim taken and nothing sent, and nothing of the batch is acknowledged, so every message comes back after its
 * visibility timeout. A batch that ends before that many /run answers dies unacknowledged all the same.
 */
export async function killSubmitterMidBatch(
  system: ChaosSystem,
  jobIds: ReadonlySet<string>,
  options: { killAfterRuns: number },
): Promise<KilledSubmitter> {
  const started = Date.now();
  const doomed = system.doomedRuntime();
  const batch = await receiveBatch(doomed.sqs, doomed.queueUrl, jobIds);
  const counts = { called: 0, answered: 0 };
  let died: () => void = () => undefined;
  const death = new Promise<void>((resolve) => {
    died = resolve;
  });
  const deps: ServiceDeps = {
    ...doomed.runtime,
    upstream: dyingUpstream(doomed.runtime.upstream, doomed.kill, options.killAfterRuns, counts, died),
  };
  const drained = drainBatch(deps, doomed.queue, batch).then(
    () => undefined,
    () => undefined,
  );
  // The batch ends (sent, deferred, skipped) or the kill freezes it for good: whichever comes first.
  await Promise.race([drained, death]);
  const killedAfterRun = doomed.kill.killed;
  doomed.kill.kill();
  return {
    batch: batch.length,
    runsCalled: counts.called,
    runsAnswered: counts.answered,
    killedAfterRun,
    jobIds: [...jobIds],
    ranMs: Date.now() - started,
  };
}
