// Shapes of the API's answers as the CLI reads them: tolerant (unknown fields kept), strict only where it relies on a field.
import { z } from 'zod';

const optionalString = z.string().optional();
const optionalNumber = z.number().optional();

export const artifactSchema = z.looseObject({
  key: z.string(),
  contentType: z.string(),
  bytes: z.number(),
  from: optionalString,
});

/** The public job record (README "The job"); new fields pass through untouched. */
export const jobSchema = z.looseObject({
  jobId: z.string(),
  endpoint: z.string(),
  state: z.string(),
  createdAt: z.string(),
  origin: optionalString,
  upstreamId: optionalString,
  upstreamStatus: optionalString,
  submittedAt: optionalString,
  submitAmbiguous: z.boolean().optional(),
  lastSeenAt: optionalString,
  finishedAt: optionalString,
  archivedAt: optionalString,
  expiredAt: optionalString,
  rejectedAt: optionalString,
  captureSource: optionalString,
  provenance: optionalString,
  verification: optionalString,
  delayTime: optionalNumber,
  executionTime: optionalNumber,
  reason: optionalString,
  inputKey: optionalString,
  inputBytes: optionalNumber,
  resultKey: optionalString,
  resultBytes: optionalNumber,
  artifacts: z.array(artifactSchema).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  idempotencyKey: optionalString,
  submittedBy: optionalString,
  trackedBy: optionalString,
  dueAt: optionalNumber,
  looks: optionalNumber,
});
export type Job = z.infer<typeof jobSchema>;

export const auditEventSchema = z.looseObject({
  jobId: z.string(),
  at: z.string(),
  type: z.string(),
  source: optionalString,
  detail: z.record(z.string(), z.unknown()).optional(),
  /** The IAM principal whose call caused the event. */
  actor: optionalString,
  /** A tally of a repeated event: how many in all, from `firstAt` to `at`. */
  count: optionalNumber,
  firstAt: optionalString,
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

export const linksSchema = z.looseObject({
  input: optionalString,
  result: optionalString,
  artifacts: z.array(artifactSchema.extend({ url: z.string() })).default([]),
  expiresInSeconds: optionalNumber,
});
export type JobLinks = z.infer<typeof linksSchema>;

export const jobViewSchema = z.looseObject({
  job: jobSchema,
  events: z.array(auditEventSchema).default([]),
  /** More events follow: GET /jobs/{jobId}/events?cursor=... */
  eventsCursor: optionalString,
  links: linksSchema,
});

/** GET /jobs/{jobId}/events: one page of the audit trail. */
export const eventPageSchema = z.looseObject({
  events: z.array(auditEventSchema).default([]),
  cursor: optionalString,
});
export type EventPage = z.infer<typeof eventPageSchema>;
export type JobView = z.infer<typeof jobViewSchema>;

export const jobEnvelopeSchema = z.looseObject({ job: jobSchema });

/** POST /jobs/{id}/reconcile: the job and what the look at the upstream did (`archived`, `unchanged`...). */
export const reconcileAnswerSchema = z.looseObject({ job: jobSchema, outcome: optionalString });

export const listPageSchema = z.looseObject({
  jobs: z.array(jobSchema),
  cursor: optionalString,
});
export type ListPage = z.infer<typeof listPageSchema>;

/** POST /jobs/batch: one result per item, in the order sent (`index`). */
export const batchAnswerSchema = z.looseObject({
  accepted: z.number(),
  failed: z.number(),
  results: z.array(
    z.looseObject({
      index: z.number(),
      status: z.number(),
      job: jobSchema.optional(),
      replayed: z.boolean().optional(),
      error: z.looseObject({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
});
export type BatchAnswer = z.infer<typeof batchAnswerSchema>;

/** GET /jobs filters, as the CLI sends them (from/to always explicit: cursors are bound to them). */
export interface ListQuery {
  from: string;
  to: string;
  state?: string;
  endpoint?: string;
  tag?: string;
  /** Jobs submitted or tracked by this IAM principal (ARN). */
  principal?: string;
  limit?: number;
  cursor?: string;
}
