// Upstream (SubModel/RunPod) response shapes: tolerant zod schemas that keep unknown fields and states.
// A namespace import lets the bundler drop zod's unused parts (its locales alone are 258 KB).
import * as z from 'zod';

/** Final upstream states: once seen, the job will never change again. */
export const FINAL_UPSTREAM_STATUSES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const;
export type FinalUpstreamStatus = (typeof FINAL_UPSTREAM_STATUSES)[number];

/** Any status string is accepted (the docs name RUNNING, the service may invent more); unknown ones are not final. */
export const upstreamStatusName = z.string().min(1).max(64);

/** The status object of `/status`, `/runsync`, `/cancel` and of webhook bodies. Unknown fields are kept. */
export const upstreamStatusSchema = z.looseObject({
  id: z.string().min(1).max(256),
  status: upstreamStatusName,
  delayTime: z.number().optional(),
  executionTime: z.number().optional(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  retries: z.number().optional(),
  workerId: z.string().optional(),
});
export type UpstreamStatus = z.infer<typeof upstreamStatusSchema>;

/** `/run` answer: `{id, status: "IN_QUEUE"}`. */
export const runAcceptedSchema = z.looseObject({
  id: z.string().min(1).max(256),
  status: upstreamStatusName,
});
export type RunAccepted = z.infer<typeof runAcceptedSchema>;

/** `/stream/{id}` answer. */
export const streamResponseSchema = z.looseObject({
  status: upstreamStatusName,
  stream: z.array(z.looseObject({ output: z.unknown() })).default([]),
});
export type StreamResponse = z.infer<typeof streamResponseSchema>;

/** `/purge-queue` answer. */
export const purgeQueueSchema = z.looseObject({ removed: z.number(), status: z.string() });
export type PurgeQueueResult = z.infer<typeof purgeQueueSchema>;

/** `/health` answer. */
export const healthSchema = z.looseObject({
  jobs: z.looseObject({
    completed: z.number().optional(),
    failed: z.number().optional(),
    inProgress: z.number().optional(),
    inQueue: z.number().optional(),
    retried: z.number().optional(),
  }),
  workers: z.record(z.string(), z.number()),
});
export type EndpointHealth = z.infer<typeof healthSchema>;

export function isFinalUpstreamStatus(status: string): status is FinalUpstreamStatus {
  return (FINAL_UPSTREAM_STATUSES as readonly string[]).includes(status);
}

/** Body of `/run` and `/runsync`. */
export interface RunRequest {
  input: Record<string, unknown>;
  webhook?: string;
  policy?: { executionTimeout?: number; ttl?: number; lowPriority?: boolean };
}
