// The logger and metrics every composition builds the same way: JSON logs, EMF lines in Lambda.
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
      // In Lambda, EMF lines on stdout become CloudWatch metrics; elsewhere only the totals are kept.
      ...(env.AWS_LAMBDA_FUNCTION_NAME && { write: (line: string) => process.stdout.write(`${line}\n`) }),
    }),
  };
}
