// The submit queue's adapters as interfaces: the queue itself, the global /run rate and the queue places.
import type { SubmitRequest } from '../schemas/api.ts';

/** What one queue message carries: the job to send and the request to send it with. */
export interface QueuedMessage {
  jobId: string;
  /** The resolved endpoint name (the job's own), so the submitter can take its rate before reading the job. */
  endpoint: string;
  request: SubmitRequest;
  /** How many times a 429 put it back (the back-off grows with it). */
  attempt: number;
}

export interface SubmitQueue {
  /** Sends messages (batched by the adapter), each visible after `delaySeconds` (≤ 900). */
  send(messages: readonly QueuedMessage[], delaySeconds?: number): Promise<void>;
}

/**
 * One endpoint's /run rate, shared by every submitter: start times are handed out evenly spaced, so the
 * fleet as a whole never starts more than the rate, however many containers drain the queue.
 */
export interface RunRate {
  /** Up to `count` start times (epoch ms, ascending) no later than `nowMs + horizonMs`; fewer when busy. */
  take(endpoint: string, count: number, nowMs: number, horizonMs: number): Promise<number[]>;
  /** No start time before `untilMs` is handed out any more (the upstream answered 429). */
  pause(endpoint: string, untilMs: number): Promise<void>;
}

/** Where a job stands in its endpoint's queue: counters of accepted and started jobs. */
export interface QueuePositions {
  /** Counts one more accepted job and returns its place (1 = next to start). */
  accept(endpoint: string): Promise<number>;
  /** Counts one more job that left the queue (sent or refused). */
  leave(endpoint: string): Promise<void>;
}

export interface QueueDeps {
  queue: SubmitQueue;
  runRate: RunRate;
  positions: QueuePositions;
}
