// Upstream (SubModel/RunPod) response shapes: tolerant zod schemas that keep unknown fields and states.
// Each schema is built on first use (z.lazy) and marked pure, so a bundle drops the ones its function never uses
// and a cold start builds none until an answer arrives (as in api.ts).
import * as z from 'zod/mini';
import './english-messages.ts';

/** Final upstream states: once seen, the job will never change again. */
export const FINAL_UPSTREAM_STATUSES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const;
export type FinalUpstreamStatus = (typeof FINAL_UPSTREAM_STATUSES)[number];

/** Any status string is accepted (the docs name RUNNING, the service may invent more); unknown ones are not final. */
export const upstreamStatusName = /* @__PURE__ */ z.lazy(() =>
  z.string().check(z.minLength(1), z.maxLength(64)),
);

/**
 * Whether DynamoDB can hold a number as the SDK writes it: finite, inside the safe integer range (the SDK
 * refuses larger ones rather than round them) and, if not zero, no smaller in magnitude than DynamoDB's
 * 1E-130. Anything else fails the write after result.json is stored, so it is dealt with here, at the edge.
 */
export function isStorableNumber(value: number): boolean {
  if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) return false;
  return value === 0 || Math.abs(value) >= 1e-130;
}

/**
 * Where an answer's unstorable numbers are named. A symbol, so they never reach JSON: result.json keeps the
 * answer's own bytes, and the job record and audit trail read them from here.
 */
export const UNSTORABLE: unique symbol = Symbol('unstorable numbers');

/** The status numbers the job record copies from the upstream. */
export const RECORDED_NUMBERS = ['delayTime', 'executionTime'] as const;

/** Any JSON number, including one past double range (JSON.parse reads `1e400` as Infinity). */
const anyNumber = /* @__PURE__ */ z.lazy(() =>
  z.custom<number>((v) => typeof v === 'number' && !Number.isNaN(v), 'expected a number'),
);
const storableNumber = /* @__PURE__ */ z.lazy(() =>
  z.number().check(z.refine(isStorableNumber, 'a number the archive can store')),
);

const upstreamId = /* @__PURE__ */ z.lazy(() => z.string().check(z.minLength(1), z.maxLength(256)));

/** Fields every status object has; a function, so they are built with the schemas that use them. */
const statusShape = () => ({
  id: upstreamId,
  status: upstreamStatusName,
  output: z.optional(z.unknown()),
  error: z.optional(z.unknown()),
  workerId: z.optional(z.string()),
});

/**
 * The status object of webhook bodies (and anything else that is only as good as whoever sent it). Unknown
 * fields are kept. Numbers the archive cannot store make the body unusable: it is not archived as delivered,
 * the archiver asks /status instead.
 */
export const upstreamStatusSchema = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    ...statusShape(),
    delayTime: z.optional(storableNumber),
    executionTime: z.optional(storableNumber),
    retries: z.optional(storableNumber),
  }),
);
export type UpstreamStatus = z.infer<typeof upstreamStatusSchema> & {
  /** Numbers of an upstream answer the job record cannot take, as the upstream wrote them (see below). */
  [UNSTORABLE]?: Partial<Record<(typeof RECORDED_NUMBERS)[number] | 'retries', string>>;
};

/**
 * The status object of `/status`, `/runsync` and `/cancel`: the upstream's own answer, archived whatever its
 * numbers. A number the store cannot hold is left out of the parsed status (so never written to the record)
 * and named under UNSTORABLE; the raw bytes in result.json still carry it exactly as sent.
 */
export const upstreamAnswerSchema = /* @__PURE__ */ z.lazy(() =>
  z.pipe(
    z.looseObject({
      ...statusShape(),
      delayTime: z.optional(anyNumber),
      executionTime: z.optional(anyNumber),
      retries: z.optional(anyNumber),
    }),
    z.transform((answer): UpstreamStatus => {
      const unstorable: Record<string, string> = {};
      const kept: Record<string, unknown> = { ...answer };
      for (const name of [...RECORDED_NUMBERS, 'retries'] as const) {
        const value = answer[name];
        if (value === undefined || isStorableNumber(value)) continue;
        unstorable[name] = String(value);
        delete kept[name];
      }
      if (Object.keys(unstorable).length === 0) return answer as UpstreamStatus;
      return Object.assign(kept as UpstreamStatus, { [UNSTORABLE]: unstorable });
    }),
  ),
);

/** `/run` answer: `{id, status: "IN_QUEUE"}`. */
export const runAcceptedSchema = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    id: upstreamId,
    status: upstreamStatusName,
  }),
);
export type RunAccepted = z.infer<typeof runAcceptedSchema>;

/** `/stream/{id}` answer. */
export const streamResponseSchema = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    status: upstreamStatusName,
    stream: z._default(z.array(z.looseObject({ output: z.unknown() })), []),
  }),
);
export type StreamResponse = z.infer<typeof streamResponseSchema>;

/** `/purge-queue` answer. */
export const purgeQueueSchema = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({ removed: z.number(), status: z.string() }),
);
export type PurgeQueueResult = z.infer<typeof purgeQueueSchema>;

/** `/health` answer. */
export const healthSchema = /* @__PURE__ */ z.lazy(() =>
  z.looseObject({
    jobs: z.looseObject({
      completed: z.optional(z.number()),
      failed: z.optional(z.number()),
      inProgress: z.optional(z.number()),
      inQueue: z.optional(z.number()),
      retried: z.optional(z.number()),
    }),
    workers: z.record(z.string(), z.number()),
  }),
);
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
