// Request bodies and query strings of the HTTP API, validated at the edge.
// A namespace import lets the bundler drop zod's unused parts (its locales alone are 258 KB).
import * as z from 'zod';
import { JOB_STATES } from '../core/job-state.ts';

const DAY_MS = 86_400_000;
/** Default and largest listing window of GET /jobs. */
export const LIST_DEFAULT_RANGE_MS = 30 * DAY_MS;
export const LIST_MAX_RANGE_MS = 400 * DAY_MS;
export const endpointName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64');

/** Tags for finding jobs later; small so they fit in the job item. */
/** Keys a plain object cannot hold as data: accepted, they would vanish or poison the object. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const metadataSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'tag keys: letters, digits, _ . : -')
      .refine((key) => !RESERVED_KEYS.has(key), 'tag key is reserved'),
    z.string().max(256),
  )
  .refine((m) => Object.keys(m).length <= 20, 'at most 20 metadata entries');

export const policySchema = z.strictObject({
  executionTimeout: z
    .number()
    .int()
    .min(5_000)
    .max(7 * DAY_MS)
    .optional(),
  ttl: z
    .number()
    .int()
    .min(10_000)
    .max(7 * DAY_MS)
    .optional(),
  lowPriority: z.boolean().optional(),
});

export const submitRequestSchema = z.strictObject({
  endpoint: endpointName.optional(),
  input: z.record(z.string(), z.unknown(), 'input must be a JSON object'),
  policy: policySchema.optional(),
  metadata: metadataSchema.optional(),
  sync: z.boolean().optional(),
  /** Accept into the submit queue (QUEUED) instead of calling /run within the request. */
  queue: z.boolean().optional(),
});
export type SubmitRequest = z.infer<typeof submitRequestSchema>;

export const upstreamIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,256}$/, 'an upstream job id');

export const trackRequestSchema = z.strictObject({
  endpoint: endpointName.optional(),
  upstreamId: upstreamIdSchema,
  metadata: metadataSchema.optional(),
});
export type TrackRequest = z.infer<typeof trackRequestSchema>;

export const reconcileRequestSchema = z.strictObject({ upstreamId: upstreamIdSchema.optional() });

/** Idempotency-Key header: opaque, but bounded and printable so it can key a DynamoDB item. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8 to 128 of A-Z a-z 0-9 _ . : -');

/** Our job ids are ULIDs. */
export const jobIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a job id (26-character ULID)');

/** An IAM principal's ARN, as API Gateway reports the caller (`authorizer.iam.userArn`). */
export const principalSchema = z.string().regex(/^arn:[\x21-\x7e]{1,2044}$/, 'an IAM ARN (arn:aws:...)');

/** GET /jobs/{jobId}/events: a page of the audit trail. */
export const eventsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(2048).optional(),
});

/** Job ids are ULIDs, whose time starts at the Unix epoch: no job was created before 1970. */
const listBound = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) >= 0, 'no earlier than 1970-01-01T00:00:00Z');

export const listQuerySchema = z.strictObject({
  from: listBound.optional(),
  to: listBound.optional(),
  state: z.enum(JOB_STATES).optional(),
  /** The upstream's own status (COMPLETED, FAILED, ...), e.g. to find failed jobs among the archived. */
  upstreamStatus: z
    .string()
    .regex(/^[A-Z_]{1,32}$/, 'an upstream status such as COMPLETED or FAILED')
    .optional(),
  endpoint: endpointName.optional(),
  tag: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}=.{0,256}$/, 'key=value')
    .optional(),
  /** Jobs submitted or tracked by this IAM principal (the ARN shown as "submitted by"). */
  principal: principalSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
});
export type ListRequest = z.infer<typeof listQuerySchema>;
