// The submit queue's adapters as interfaces: the queue itself, the global /run rate and the queue places.
import type { SubmitRequest } from '../schemas/api.ts';
import type { EndpointPause } from './endpoint-backoff.ts';

/** What one queue message carries: the job to send and the request to send it with. */
export interface QueuedMessage {
  jobId: string;
  /** The resolved endpoint name (the job's own), so the submitter can take its rate before reading the job. */
  endpoint: string;
  request: SubmitRequest;
  /** How many times a 429 put it back (for the audit trail; the pause is the endpoint's, endpoint-backoff.ts). */
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
  /**
   * The upstream answered 429 to a /run started at `startedAt`: no start time before the pause's end is handed
   * out any more, the pause grown by the episode (core/endpoint-backoff.ts). Returns when starts resume.
   */
  backOff(endpoint: string, startedAt: number, nowMs: number, retryAfterMs: number): Promise<number>;
  /** The endpoint's latest pause, if it ever met a 429. */
  lastPause(endpoint: string): Promise<EndpointPause | undefined>;
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
