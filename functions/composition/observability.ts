// The logger and metrics every composition builds the same way: JSON logs, EMF lines batched per invocation.
import { EmfMetrics } from '../adapters/emf-metrics.ts';
import { JsonLogger } from '../adapters/logger.ts';
import type { Config } from '../config.ts';

/** One container's logger and metrics, named after POWERTOOLS_SERVICE_NAME. */
export function observability(
  config: Config,
  env: Record<string, string | undefined>,
): { logger: JsonLogger; metrics: EmfMetrics } {
  const service = env.POWERTOOLS_SERVICE_NAME ?? 'submodel-archiver';
  return {
    logger: new JsonLogger({ level: config.LOG_LEVEL, service }),
    metrics: new EmfMetrics({
      namespace: config.METRICS_NAMESPACE,
      service,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? service,
      // In Lambda, EMF lines on stdout become CloudWatch metrics. Elsewhere only the totals are kept, unless
      // LOG_LEVEL=debug asks to see the same lines Lambda would write.
      ...((env.AWS_LAMBDA_FUNCTION_NAME || config.LOG_LEVEL === 'debug') && {
        write: (line: string) => process.stdout.write(`${line}\n`),
      }),
    }),
  };
}
