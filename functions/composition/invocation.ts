// One invocation's view of the runtime: a logger whose every line names the request (and job, where known), metrics flushed once at its end.
import type { Context } from 'aws-lambda';
import type { Logger, Metrics } from '../core/ports.ts';
import type { ServiceDeps } from '../core/services.ts';

/** What identifies an invocation in its log lines; undefined fields are left out. */
export interface InvocationFields {
  /** The API's request id, which error answers carry as `details.requestId`. */
  requestId?: string | undefined;
  jobId?: string | undefined;
  /** The group of due shards a sweeper invocation sweeps. */
  sweepGroup?: string | undefined;
}

/** A logger that can add fields to every line (adapters/logger.ts); test fakes may not. */
interface FieldLogger extends Logger {
  child(fields: Record<string, unknown>): Logger;
}

/** Metrics that batch per invocation (adapters/emf-metrics.ts); test fakes may not. */
interface BatchingMetrics extends Metrics {
  invocation(): Metrics & { flush(): void };
}

const hasChild = (logger: Logger): logger is FieldLogger =>
  typeof (logger as FieldLogger).child === 'function';
const batches = (metrics: Metrics): metrics is BatchingMetrics =>
  typeof (metrics as BatchingMetrics).invocation === 'function';

/** Containers of this module instance that have not served an invocation yet (one per Lambda container). */
let coldStart = true;

/**
 * Runs one invocation against a view of `runtime` whose logger carries the Lambda request id, `cold_start`,
 * the function name and the given fields on every line, and whose metrics are written as one EMF batch when
 * the work ends, however it ends. The runtime's adapters stay shared and lazy (the view inherits them).
 * @example return inInvocation(getRuntime(), context, { requestId }, (rt) => handle(rt, event));
 */
export async function inInvocation<T>(
  runtime: ServiceDeps,
  context: Partial<Pick<Context, 'awsRequestId' | 'functionName'>> | undefined,
  fields: InvocationFields,
  work: (runtime: ServiceDeps) => Promise<T>,
): Promise<T> {
  const lineFields: Record<string, unknown> = {
    ...(context?.awsRequestId && { function_request_id: context.awsRequestId }),
    ...(context?.functionName && { function_name: context.functionName }),
    cold_start: coldStart,
  };
  coldStart = false;
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) lineFields[key] = value;
  const batch = batches(runtime.metrics) ? runtime.metrics.invocation() : undefined;
  const view: ServiceDeps = Object.create(runtime, {
    logger: { value: hasChild(runtime.logger) ? runtime.logger.child(lineFields) : runtime.logger },
    metrics: { value: batch ?? runtime.metrics },
  });
  try {
    return await work(view);
  } finally {
    batch?.flush();
  }
}
