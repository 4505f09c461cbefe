// Request bodies and query strings of the HTTP API, validated at the edge.
// Every schema is built on its first use (z.lazy) and marked pure: a bundle drops the ones its function never
// imports, and a cold start builds none of them (about 6 ms of init for this module) until a request needs it.
import * as z from 'zod/mini';
import './english-messages.ts';
import { JOB_STATES } from '../core/job-state.ts';

const DAY_MS = 86_400_000;
/** Default and largest listing window of GET /jobs. */
export const LIST_DEFAULT_RANGE_MS = 30 * DAY_MS;
export const LIST_MAX_RANGE_MS = 400 * DAY_MS;
export const endpointName = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64')),
);

/** Tags for finding jobs later; small so they fit in the job item. */
/** Keys a plain object cannot hold as data: accepted, they would vanish or poison the object. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const metadataSchema = /* @__PURE__ */ z.lazy(() =>
  z
    .record(
      z.string().check(
        z.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'tag keys: letters, digits, _ . : -'),
        z.refine((key) => !RESERVED_KEYS.has(key), 'tag key is reserved'),
      ),
      z.string().check(z.maxLength(256)),
    )
    .check(z.refine((m) => Object.keys(m).length <= 20, 'at most 20 metadata entries')),
);

/** An integer number of milliseconds between `min` and `max`, as classic zod's `number().int().min().max()`. */
const boundedMs = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));

export const policySchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    executionTimeout: z.optional(boundedMs(5_000, 7 * DAY_MS)),
    ttl: z.optional(boundedMs(10_000, 7 * DAY_MS)),
    lowPriority: z.optional(z.boolean()),
  }),
);

/** The fields of a job to submit, shared by POST /jobs and each job of POST /jobs/batch. */
const submitFields = () => ({
  endpoint: z.optional(endpointName),
  input: z.record(z.string(), z.unknown(), 'input must be a JSON object'),
  policy: z.optional(policySchema),
  metadata: z.optional(metadataSchema),
});

export const submitRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    ...submitFields(),
    sync: z.optional(z.boolean()),
    /** Accept into the submit queue (QUEUED) instead of calling /run within the request. */
    queue: z.optional(z.boolean()),
  }),
);
export type SubmitRequest = z.infer<typeof submitRequestSchema>;

/** One job of a batch: a queued POST /jobs body with its own Idempotency-Key (sync has no place in a queue). */
export const batchItemSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({ ...submitFields(), idempotencyKey: z.optional(idempotencyKeySchema) }),
);
export type BatchItem = z.infer<typeof batchItemSchema>;

export const upstreamIdSchema = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,256}$/, 'an upstream job id')),
);

export const trackRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    endpoint: z.optional(endpointName),
    upstreamId: upstreamIdSchema,
    metadata: z.optional(metadataSchema),
  }),
);
export type TrackRequest = z.infer<typeof trackRequestSchema>;

export const reconcileRequestSchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({ upstreamId: z.optional(upstreamIdSchema) }),
);

/** Idempotency-Key header: opaque, but bounded and printable so it can key a DynamoDB item. */
export const idempotencyKeySchema = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8 to 128 of A-Z a-z 0-9 _ . : -')),
);

/** Our job ids are ULIDs. */
export const jobIdSchema = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a job id (26-character ULID)')),
);

/** An IAM principal's ARN, as API Gateway reports the caller (`authorizer.iam.userArn`). */
export const principalSchema = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.regex(/^arn:[\x21-\x7e]{1,2044}$/, 'an IAM ARN (arn:aws:...)')),
);

/** A page size read from the query string, `fallback` when absent. */
const pageLimit = (max: number, fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(max)), fallback);
const pageCursor = /* @__PURE__ */ z.lazy(() =>
  z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
);

/** GET /jobs/{jobId}/events: a page of the audit trail. */
export const eventsQuerySchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    limit: pageLimit(500, 100),
    cursor: pageCursor,
  }),
);

/** Job ids are ULIDs, whose time starts at the Unix epoch: no job was created before 1970. */
const listBound = /* @__PURE__ */ z.lazy(() =>
  z.iso
    .datetime({ offset: true })
    .check(z.refine((value) => Date.parse(value) >= 0, 'no earlier than 1970-01-01T00:00:00Z')),
);

export const listQuerySchema = /* @__PURE__ */ z.lazy(() =>
  z.strictObject({
    from: z.optional(listBound),
    to: z.optional(listBound),
    state: z.optional(z.enum(JOB_STATES)),
    /** The upstream's own status (COMPLETED, FAILED, ...), e.g. to find failed jobs among the archived. */
    upstreamStatus: z.optional(
      z.string().check(z.regex(/^[A-Z_]{1,32}$/, 'an upstream status such as COMPLETED or FAILED')),
    ),
    endpoint: z.optional(endpointName),
    tag: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,64}=.{0,256}$/, 'key=value'))),
    /** Jobs submitted or tracked by this IAM principal (the ARN shown as "submitted by"). */
    principal: z.optional(principalSchema),
    limit: pageLimit(100, 25),
    cursor: pageCursor,
  }),
);
export type ListRequest = z.infer<typeof listQuerySchema>;
