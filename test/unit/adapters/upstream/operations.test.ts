// URL building for the three documented base URL styles, and the operation table's retry safety.
import { describe, expect, it } from 'vitest';
import { buildOperationUrl, OPERATIONS } from '../../../../functions/adapters/upstream/operations.ts';

describe('buildOperationUrl', () => {
  const styles = [
    ['SubModel /api/v1/sl', 'https://api.submodel.ai/api/v1/sl/inst-42'],
    ['SubModel /v2', 'https://api.submodel.ai/v2/ep123'],
    ['RunPod /v2', 'https://api.runpod.ai/v2/ep123'],
  ] as const;

  it.each(styles)('appends operation and id to a %s base', (_style, base) => {
    expect(buildOperationUrl(new URL(base), 'run').href).toBe(`${base}/run`);
    expect(buildOperationUrl(new URL(base), 'status', 'job-1-u1').href).toBe(`${base}/status/job-1-u1`);
    expect(buildOperationUrl(new URL(base), 'status-sync', 'j', { wait: 5000 }).href).toBe(
      `${base}/status-sync/j?wait=5000`,
    );
    expect(buildOperationUrl(new URL(base), 'purge-queue').href).toBe(`${base}/purge-queue`);
  });

  it('tolerates a trailing slash and keeps a query the base already has', () => {
    const base = new URL('https://api.runpod.ai/v2/ep123/?region=eu');
    expect(buildOperationUrl(base, 'health').href).toBe('https://api.runpod.ai/v2/ep123/health?region=eu');
  });

  it('encodes ids so they cannot change the path and leaves undefined query values out', () => {
    const url = buildOperationUrl(new URL('https://api.runpod.ai/v2/ep'), 'cancel', '../x?y#z', {
      ttl: undefined,
    });
    expect(url.href).toBe('https://api.runpod.ai/v2/ep/cancel/..%2Fx%3Fy%23z');
  });
});

describe('OPERATIONS', () => {
  it('only lets operations that cannot start or requeue work be repeated after an ambiguous failure', () => {
    const idempotent = Object.entries(OPERATIONS)
      .filter(([, spec]) => spec.idempotent)
      .map(([name]) => name)
      .sort();
    expect(idempotent).toEqual(['cancel', 'health', 'status', 'status-sync', 'stream']);
  });

  it('shares one limiter class between status, status-sync and stream', () => {
    expect(OPERATIONS.status.limiterClass).toBe('status');
    expect(OPERATIONS['status-sync'].limiterClass).toBe('status');
    expect(OPERATIONS.stream.limiterClass).toBe('status');
  });
});
