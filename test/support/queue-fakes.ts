// In-memory submit queue adapters for unit tests: a recording queue, a GCRA rate and counters.
import { type EndpointPause, nextPause, pauseEnd } from '../../functions/core/endpoint-backoff.ts';
import type {
  QueueDeps,
  QueuedMessage,
  QueuePositions,
  RunRate,
  SubmitQueue,
} from '../../functions/core/queue-ports.ts';

export class MemoryQueue implements SubmitQueue {
  readonly sent: { message: QueuedMessage; delaySeconds: number }[] = [];
  failNext = false;
  async send(messages: readonly QueuedMessage[], delaySeconds = 0): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue unavailable');
    }
    for (const message of messages) this.sent.push({ message, delaySeconds });
  }
}

/** The same schedule as the DynamoDB rate item, in memory. */
export class MemoryRunRate implements RunRate {
  readonly next = new Map<string, number>();
  readonly pauses = new Map<string, EndpointPause>();
  /** Reads of an endpoint's last pause, as the hot rate item would count them. */
  pauseReads = 0;
  constructor(readonly intervalMs: number) {}
  async take(endpoint: string, count: number, nowMs: number, horizonMs: number): Promise<number[]> {
    const start = Math.max(this.next.get(endpoint) ?? 0, nowMs);
    const granted = Math.min(
      count,
      Math.max(0, Math.floor((nowMs + horizonMs - start) / this.intervalMs) + 1),
    );
    this.next.set(endpoint, start + granted * this.intervalMs);
    return Array.from({ length: granted }, (_, i) => start + i * this.intervalMs);
  }
  async backOff(endpoint: string, startedAt: number, nowMs: number, retryAfterMs: number): Promise<number> {
    const pause = nextPause(this.pauses.get(endpoint), startedAt, nowMs, retryAfterMs);
    if (pause) this.pauses.set(endpoint, pause);
    const resumeAt = Math.max(this.next.get(endpoint) ?? 0, pauseEnd(this.pauses.get(endpoint)) ?? nowMs);
    this.next.set(endpoint, resumeAt);
    return resumeAt;
  }
  async lastPause(endpoint: string): Promise<EndpointPause | undefined> {
    this.pauseReads++;
    return this.pauses.get(endpoint);
  }
}

export class MemoryPositions implements QueuePositions {
  readonly accepted = new Map<string, number>();
  readonly left = new Map<string, number>();
  async accept(endpoint: string): Promise<number> {
    const accepted = (this.accepted.get(endpoint) ?? 0) + 1;
    this.accepted.set(endpoint, accepted);
    return Math.max(1, accepted - (this.left.get(endpoint) ?? 0));
  }
  async leave(endpoint: string): Promise<void> {
    this.left.set(endpoint, (this.left.get(endpoint) ?? 0) + 1);
  }
}

export type TestQueueDeps = QueueDeps & {
  queue: MemoryQueue;
  runRate: MemoryRunRate;
  positions: MemoryPositions;
};

export function testQueueDeps(intervalMs = 10_000 / 970): TestQueueDeps {
  return {
    queue: new MemoryQueue(),
    runRate: new MemoryRunRate(intervalMs),
    positions: new MemoryPositions(),
  };
}
