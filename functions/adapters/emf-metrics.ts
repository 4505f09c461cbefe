// Metrics as CloudWatch Embedded Metric Format lines, batched per invocation: CloudWatch turns them into metrics with no API calls.
import type { MetricName, MetricScope, Metrics } from '../core/ports.ts';

type Unit = 'Milliseconds' | 'Bytes' | 'Count';

export interface EmfMetricsOptions {
  namespace: string;
  service: string;
  /** The `function_name` dimension of the cold-start metric. */
  functionName: string;
  /** Where EMF lines go (stdout in Lambda); without it only the totals are kept. */
  write?: (line: string) => void;
}

/** CloudWatch takes at most 100 values of one metric in one document. */
const MAX_VALUES = 100;

/** One EMF document's data: metric name → unit and values, all under the same dimension values. */
type Points = Map<MetricName | 'ColdStart', { unit: Unit; values: number[] }>;

/**
 * The container's metrics: running totals (tests and local mode read them) and the EMF writer. Each
 * invocation records into its own `invocation()` batch, flushed once at its end; a data point recorded
 * outside any invocation (local mode's direct calls) is written at once.
 */
export class EmfMetrics implements Metrics {
  readonly totals = new Map<MetricName, number>();
  private coldStart = true;

  constructor(private readonly options: EmfMetricsOptions) {}

  count(name: MetricName, value = 1, scope?: MetricScope): void {
    const batch = this.invocation({ coldStart: false });
    batch.count(name, value, scope);
    batch.flush();
  }

  gauge(name: MetricName, value: number, unit: Unit, scope?: MetricScope): void {
    const batch = this.invocation({ coldStart: false });
    batch.gauge(name, value, unit, scope);
    batch.flush();
  }

  /** A batch for one invocation; the container's first one also carries the ColdStart metric. */
  invocation(options: { coldStart?: boolean } = {}): MetricsBatch {
    const coldStart = (options.coldStart ?? true) && this.coldStart;
    if (coldStart) this.coldStart = false;
    return new MetricsBatch(this.options, this.totals, coldStart);
  }
}

/**
 * The data points of one invocation. `flush` writes one document per endpoint met (metrics with no endpoint
 * share the service-level one): each document declares both the `service` and the `service, endpoint`
 * dimension sets, so every metric has its service-level total and, where it counts a job, its per-endpoint
 * figure. Counts of one metric are summed; gauges keep each value (their statistics need them).
 */
export class MetricsBatch implements Metrics {
  private readonly byEndpoint = new Map<string | undefined, Points>();

  constructor(
    private readonly options: EmfMetricsOptions,
    private readonly totals: Map<MetricName, number>,
    private coldStart: boolean,
  ) {}

  count(name: MetricName, value = 1, scope?: MetricScope): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    const point = this.point(name, 'Count', scope);
    if (point.values.length) point.values[0] = (point.values[0] ?? 0) + value;
    else point.values.push(value);
  }

  gauge(name: MetricName, value: number, unit: Unit, scope?: MetricScope): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    this.point(name, unit, scope).values.push(value);
  }

  /** Writes what was recorded and empties the batch; a batch with nothing in it writes nothing. */
  flush(): void {
    const write = this.options.write;
    const timestamp = Date.now();
    if (write && this.coldStart)
      write(this.document(timestamp, [['service', 'function_name']], coldStartPoints(), {}));
    this.coldStart = false;
    if (write) {
      for (const [endpoint, points] of this.byEndpoint) {
        const dimensions = endpoint === undefined ? [['service']] : [['service'], ['service', 'endpoint']];
        for (const chunk of chunks(points)) write(this.document(timestamp, dimensions, chunk, { endpoint }));
      }
    }
    this.byEndpoint.clear();
  }

  private point(name: MetricName, unit: Unit, scope: MetricScope | undefined) {
    const endpoint = scope?.endpoint;
    const points = this.byEndpoint.get(endpoint) ?? new Map();
    this.byEndpoint.set(endpoint, points);
    const point = points.get(name) ?? { unit, values: [] };
    points.set(name, point);
    return point;
  }

  private document(
    timestamp: number,
    dimensions: string[][],
    points: Points,
    extra: { endpoint?: string | undefined },
  ): string {
    const values: Record<string, number | number[]> = {};
    const metrics: Array<{ Name: string; Unit: Unit }> = [];
    for (const [name, { unit, values: v }] of points) {
      metrics.push({ Name: name, Unit: unit });
      values[name] = v.length === 1 ? (v[0] as number) : v;
    }
    return JSON.stringify({
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [{ Namespace: this.options.namespace, Dimensions: dimensions, Metrics: metrics }],
      },
      service: this.options.service,
      ...(dimensions.some((d) => d.includes('function_name')) && {
        function_name: this.options.functionName,
      }),
      ...(extra.endpoint !== undefined && { endpoint: extra.endpoint }),
      ...values,
    });
  }
}

function coldStartPoints(): Points {
  return new Map([['ColdStart', { unit: 'Count', values: [1] }]]);
}

/** The points split so that no metric has more than MAX_VALUES values in one document. */
function* chunks(points: Points): Generator<Points> {
  for (let start = 0; ; start += MAX_VALUES) {
    const chunk: Points = new Map();
    for (const [name, point] of points) {
      const values = point.values.slice(start, start + MAX_VALUES);
      if (values.length) chunk.set(name, { unit: point.unit, values });
    }
    if (!chunk.size) return;
    yield chunk;
  }
}
