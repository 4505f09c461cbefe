// Seeded fault injection: each fault kind draws from its own PRNG stream, so the n-th decision of a kind is fixed.
import { z } from 'zod';
import { hash32, mulberry32 } from './random.ts';

/** Rate-limit and fault classes: operations that share a documented limit share a class. */
export const OPERATION_CLASSES = [
  'run',
  'runsync',
  'status',
  'cancel',
  'retry',
  'purge',
  'health',
  'requests',
] as const;
export type OperationClass = (typeof OPERATION_CLASSES)[number];

/** A value for every operation class, or per class (classes left out get 0). */
export type PerClass = number | Partial<Record<OperationClass, number>>;

/** Probabilities are 0..1. Replaced as a whole by `setFaults`. */
export interface FaultOptions {
  /** Seed of the fault dice; defaults to the emulator seed. */
  seed?: number;
  /** A finished job's webhook is never sent. */
  webhookDrop?: number;
  /** After its normal delivery, the same webhook body is sent once more. */
  webhookDuplicate?: number;
  /** The first webhook try is held back `webhookDelayMs`; defaults to 1 when only `webhookDelayMs` is set. */
  webhookDelay?: number;
  webhookDelayMs?: number;
  /** The webhook is sent with an empty body (as a platform fault once did for hours). */
  webhookEmptyBody?: number;
  /** The webhook body is the JSON literal `null`. */
  webhookNullBody?: number;
  /** A 5xx answer instead of running the operation (nothing happens upstream). */
  serverError?: PerClass;
  /** The operation runs but its answer is replaced by a 502 (e.g. /run accepted a job the client never hears of). */
  lostResponse?: PerClass;
  /** Status codes the two faults above pick from (seeded); default [500, 502, 503]. */
  serverErrorStatuses?: number[];
  /** Added before every request of the class is handled. */
  latencyMs?: PerClass;
}

/** The decisions for one webhook, drawn together in a fixed order so they stay reproducible. */
export interface WebhookPlan {
  drop: boolean;
  duplicate: boolean;
  delayMs: number;
  body: 'normal' | 'empty' | 'null';
}

const probability = z.number().min(0).max(1);
const perClassSchema = (value: z.ZodNumber) =>
  z.union([value, z.partialRecord(z.enum(OPERATION_CLASSES), value)]).optional();

/** FaultOptions as accepted from outside the process (CLI, POST /_emulator/faults): unknown keys refused. */
export const faultOptionsSchema = z.strictObject({
  seed: z.number().int().optional(),
  webhookDrop: probability.optional(),
  webhookDuplicate: probability.optional(),
  webhookDelay: probability.optional(),
  webhookDelayMs: z.number().min(0).optional(),
  webhookEmptyBody: probability.optional(),
  webhookNullBody: probability.optional(),
  serverError: perClassSchema(probability),
  lostResponse: perClassSchema(probability),
  serverErrorStatuses: z.array(z.number().int().min(500).max(599)).optional(),
  latencyMs: perClassSchema(z.number().min(0)),
});

const perClass = (value: PerClass | undefined, cls: OperationClass): number =>
  typeof value === 'number' ? value : (value?.[cls] ?? 0);

export class FaultInjector {
  private readonly streams = new Map<string, () => number>();
  private readonly seed: number;

  constructor(
    readonly options: FaultOptions,
    defaultSeed: number,
  ) {
    this.seed = (options.seed ?? defaultSeed) >>> 0;
  }

  /** True with probability `p`, from the stream of `kind`; p ≤ 0 draws nothing, so idle faults shift no sequence. */
  private chance(kind: string, p: number): boolean {
    if (!(p > 0)) return false;
    return this.draw(kind) < p;
  }

  private draw(kind: string): number {
    let stream = this.streams.get(kind);
    if (!stream) {
      stream = mulberry32(hash32(kind, this.seed));
      this.streams.set(kind, stream);
    }
    return stream();
  }

  private pickStatus(kind: string): number {
    const statuses = this.options.serverErrorStatuses?.length
      ? this.options.serverErrorStatuses
      : [500, 502, 503];
    return statuses[Math.floor(this.draw(`${kind}:code`) * statuses.length)] ?? 500;
  }

  /** A 5xx status to answer instead of running the operation, or undefined. */
  serverError(cls: OperationClass): number | undefined {
    const kind = `serverError:${cls}`;
    return this.chance(kind, perClass(this.options.serverError, cls)) ? this.pickStatus(kind) : undefined;
  }

  /** A 5xx status to answer after running the operation, or undefined. */
  lostResponse(cls: OperationClass): number | undefined {
    const kind = `lostResponse:${cls}`;
    return this.chance(kind, perClass(this.options.lostResponse, cls)) ? this.pickStatus(kind) : undefined;
  }

  latencyMs(cls: OperationClass): number {
    return Math.max(0, perClass(this.options.latencyMs, cls));
  }

  webhookPlan(): WebhookPlan {
    const o = this.options;
    const drop = this.chance('webhookDrop', o.webhookDrop ?? 0);
    const duplicate = this.chance('webhookDuplicate', o.webhookDuplicate ?? 0);
    const delayP = o.webhookDelay ?? (o.webhookDelayMs ? 1 : 0);
    const delayMs = this.chance('webhookDelay', delayP) ? Math.max(0, o.webhookDelayMs ?? 1000) : 0;
    const empty = this.chance('webhookEmptyBody', o.webhookEmptyBody ?? 0);
    const isNull = this.chance('webhookNullBody', o.webhookNullBody ?? 0);
    return { drop, duplicate, delayMs, body: empty ? 'empty' : isNull ? 'null' : 'normal' };
  }
}

const jobWebhookFaultSchema = z
  .strictObject({
    drop: z.boolean().optional(),
    duplicate: z.boolean().optional(),
    delayMs: z.number().int().min(0).max(3_600_000).optional(),
    body: z.enum(['normal', 'empty', 'null']).optional(),
  })
  .optional();

/**
 * Per-job webhook faults, for demos and tests that need one particular job's webhook dropped or doubled:
 * `input._emulator.webhook = {drop, duplicate, delayMs, body}` wins over the seeded dice. Emulator only.
 */
export function withJobWebhookFaults(plan: WebhookPlan, input: unknown): WebhookPlan {
  const control = (input as { _emulator?: { webhook?: unknown } } | null)?._emulator?.webhook;
  const parsed = jobWebhookFaultSchema.safeParse(control);
  if (!parsed.success || !parsed.data) return plan;
  const o = parsed.data;
  return {
    drop: o.drop ?? plan.drop,
    duplicate: o.duplicate ?? plan.duplicate,
    delayMs: o.delayMs ?? plan.delayMs,
    body: o.body ?? plan.body,
  };
}
