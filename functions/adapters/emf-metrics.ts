// Metrics as CloudWatch Embedded Metric Format lines: CloudWatch turns them into metrics with no API calls.
import type { MetricName, Metrics } from '../core/ports.ts';

export interface EmfMetricsOptions {
  namespace: string;
  service: string;
  write?: (line: string) => void;
}

/** Emits one EMF document per data point; also keeps running totals (local mode prints them). */
export class EmfMetrics implements Metrics {
  readonly totals = new Map<MetricName, number>();

  constructor(private readonly options: EmfMetricsOptions) {}

  count(name: MetricName, value = 1): void {
    this.emit(name, value, 'Count');
  }

  gauge(name: MetricName, value: number, unit: 'Milliseconds' | 'Bytes' | 'Count'): void {
    this.emit(name, value, unit);
  }

  private emit(name: MetricName, value: number, unit: string) {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    const write = this.options.write;
    if (!write) return;
    write(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: this.options.namespace,
              Dimensions: [['service']],
              Metrics: [{ Name: name, Unit: unit }],
            },
          ],
        },
        service: this.options.service,
        [name]: value,
      }),
    );
  }
}
