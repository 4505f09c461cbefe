// A large /status answer through the real upstream client into capture: the bytes archived untouched, the
// long text never materialised, a long base64 image stored as its own object, and verification still exact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../../../functions/adapters/upstream/index.ts';
import { captureResult } from '../../../functions/core/capture.ts';
import { isLean, OmittedText } from '../../../functions/core/lean-output.ts';
import { statusDigest } from '../../../functions/core/result-document.ts';
import type { UpstreamClient } from '../../../functions/core/upstream-port.ts';
import { testDeps } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';
import { type FakeUpstream, startFakeUpstream } from '../adapters/upstream/fake-upstream.ts';

const png = Buffer.concat([
  Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
  Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251)),
]);

let upstream: FakeUpstream;
let client: UpstreamClient;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  client = createUpstreamClient({
    endpoints: { default: `${upstream.origin}/v2/ep` },
    apiKey: async () => 'key',
    retry: { maxAttempts: 1 },
    timeoutMs: 60_000,
  });
});
afterAll(() => upstream.close());

describe('capturing a large /status answer', () => {
  // RunPod's key order: output before status; indented, as some workers send it. About 10 MiB.
  const answer = {
    delayTime: 120,
    executionTime: Number.POSITIVE_INFINITY,
    id: 'up-big',
    output: { text: 'lorem ipsum ✓ '.repeat(700_000), images: [{ image: png.toString('base64') }], n: 3 },
    status: 'COMPLETED',
  };
  const body = Buffer.from(JSON.stringify(answer, null, 1).replace('null', '1e400'));

  it('archives the exact bytes, stores the image, and records what the record needs', async () => {
    upstream.reply({ body });
    const fetched = await client.status('default', 'up-big');
    expect(fetched.status.status).toBe('COMPLETED');
    expect(isLean(fetched.status)).toBe(true);
    expect((fetched.status.output as { text: unknown }).text).toBeInstanceOf(OmittedText);

    const deps = testDeps({ ARTIFACTS_DECODE_BASE64: 'true' });
    const job = pendingJob({ upstreamId: 'up-big' });
    await deps.jobs.create(job);
    const outcome = await captureResult(deps, job.jobId, { ...fetched, source: 'sweeper' });

    expect(outcome.kind).toBe('archived');
    const stored = await deps.jobs.get(job.jobId);
    expect(stored).toMatchObject({ state: 'ARCHIVED', delayTime: 120 });
    // F8: a number the record cannot hold stays out of it; result.json keeps it as sent.
    expect(stored?.executionTime).toBeUndefined();
    const result = deps.archive.objects.get(stored?.resultKey ?? '')?.body;
    const head = result?.subarray(0, result.indexOf('"status":') + '"status":'.length);
    expect(result?.subarray(head?.length, -2).equals(body)).toBe(true);
    const [artifact] = stored?.artifacts ?? [];
    expect(artifact).toMatchObject({
      contentType: 'image/png',
      bytes: png.length,
      from: 'output.images[0].image',
    });
    expect(deps.archive.objects.get(artifact?.key ?? '')?.body.equals(png)).toBe(true);
  });

  it('digests a lean status as the whole one (background verification compares digests)', async () => {
    upstream.reply({ body });
    const fetched = await client.status('default', 'up-big');
    const whole = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    delete whole.executionTime;
    expect(statusDigest(fetched.status)).toBe(statusDigest(whole as typeof fetched.status));
  });

  it('rewrites an answer that carries delivery fields from its whole value, not from the stand-ins', async () => {
    const withInput = {
      id: 'up-in',
      input: { prompt: 'p' },
      output: { text: 'x'.repeat(100_000) },
      status: 'COMPLETED',
    };
    upstream.reply({ body: JSON.stringify(withInput) });
    const fetched = await client.status('default', 'up-in');
    expect(isLean(fetched.status)).toBe(true);
    const deps = testDeps();
    const job = pendingJob({ upstreamId: 'up-in' });
    await deps.jobs.create(job);
    await captureResult(deps, job.jobId, { ...fetched, source: 'sweeper' });
    const stored = await deps.jobs.get(job.jobId);
    const { input: _input, ...expected } = withInput;
    expect((deps.archive.json(stored?.resultKey ?? '') as { status: unknown }).status).toEqual(expected);
  });
});
