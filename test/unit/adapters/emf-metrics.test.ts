// EMF batching: one flush per invocation, a cold-start metric once per container, per-endpoint figures with service totals.
import { describe, expect, it } from 'vitest';
import { EmfMetrics } from '../../../functions/adapters/emf-metrics.ts';

function metricsWriting() {
  const lines: string[] = [];
  const metrics = new EmfMetrics({
    namespace: 'Archiver',
    service: 'archiver',
    functionName: 'webhook-fn',
    write: (line) => lines.push(line),
  });
  const docs = () => lines.map((l) => JSON.parse(l));
  return { metrics, lines, docs };
}

describe('EmfMetrics', () => {
  it('writes nothing until the invocation flushes, then one document per endpoint met', () => {
    const { metrics, lines, docs } = metricsWriting();
    const batch = metrics.invocation({ coldStart: false });
    batch.count('WebhooksReceived');
    batch.count('WebhooksReceived');
    batch.count('JobsArchived', 1, { endpoint: 'sdxl' });
    batch.gauge('ArchivedBytes', 300, 'Bytes', { endpoint: 'sdxl' });
    batch.gauge('ArchivedBytes', 500, 'Bytes', { endpoint: 'sdxl' });
    batch.count('JobsArchived', 1, { endpoint: 'llama' });
    expect(lines).toEqual([]);
    batch.flush();
    const [service, sdxl, llama] = docs();
    expect(docs()).toHaveLength(3);
    expect(service).toMatchObject({ service: 'archiver', WebhooksReceived: 2 });
    expect(service._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Archiver',
        Dimensions: [['service']],
        Metrics: [{ Name: 'WebhooksReceived', Unit: 'Count' }],
      },
    ]);
    expect(service).not.toHaveProperty('endpoint');
    // Each endpoint's document also counts towards the service-level total.
    expect(sdxl).toMatchObject({ endpoint: 'sdxl', JobsArchived: 1, ArchivedBytes: [300, 500] });
    expect(sdxl._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service'], ['service', 'endpoint']]);
    expect(llama).toMatchObject({ endpoint: 'llama', JobsArchived: 1 });
    expect(metrics.totals.get('JobsArchived')).toBe(2);
    expect(metrics.totals.get('WebhooksReceived')).toBe(2);
  });

  it('counts ColdStart in the first invocation of the container only, with the function name', () => {
    const { metrics, docs } = metricsWriting();
    metrics.invocation().flush();
    metrics.invocation().flush();
    expect(docs()).toEqual([
      expect.objectContaining({
        ColdStart: 1,
        function_name: 'webhook-fn',
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            expect.objectContaining({
              Dimensions: [['service', 'function_name']],
              Metrics: [{ Name: 'ColdStart', Unit: 'Count' }],
            }),
          ],
        }),
      }),
    ]);
  });

  it('splits a gauge with more than 100 values across documents, as CloudWatch requires', () => {
    const { metrics, docs } = metricsWriting();
    const batch = metrics.invocation({ coldStart: false });
    for (let i = 0; i < 150; i++) batch.gauge('OldestDueAgeMs', i, 'Milliseconds');
    batch.count('StatusPolls', 150);
    batch.flush();
    expect(docs().map((d) => [d.OldestDueAgeMs?.length, d.StatusPolls])).toEqual([
      [100, 150],
      [50, undefined],
    ]);
  });

  it('keeps only totals when it has nowhere to write, and a flushed batch starts empty', () => {
    const quiet = new EmfMetrics({ namespace: 'A', service: 's', functionName: 'f' });
    quiet.count('JobsSubmitted', 1, { endpoint: 'e' });
    expect(quiet.totals.get('JobsSubmitted')).toBe(1);
    const { metrics, docs } = metricsWriting();
    const batch = metrics.invocation({ coldStart: false });
    batch.count('JobsExpired');
    batch.flush();
    batch.flush();
    expect(docs()).toHaveLength(1);
  });
});
