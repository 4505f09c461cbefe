// URL artifacts in capture: fetched only when enabled, only from statuses /status confirmed, failures audited.
import { ulid } from 'ulid';
import { beforeEach, describe, expect, it } from 'vitest';
import { captureResult } from '../../../functions/core/capture.ts';
import type { FetchedImage, UrlFetcher } from '../../../functions/core/ports.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import type { UpstreamStatus } from '../../../functions/schemas/upstream.ts';
import { type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** Answers by URL; records every URL it was asked for. */
class ScriptedFetcher implements UrlFetcher {
  readonly asked: string[] = [];
  constructor(private readonly answers: Record<string, FetchedImage>) {}
  async fetchImage(url: string): Promise<FetchedImage> {
    this.asked.push(url);
    return this.answers[url] ?? { ok: false, outcome: 'failed', reason: 'no answer scripted' };
  }
}

const image: FetchedImage = { ok: true, body: PNG, contentType: 'image/png', ext: 'png' };

describe('URL artifacts', () => {
  let deps: TestDeps;
  let fetcher: ScriptedFetcher;
  const seed = async () => {
    const job = pendingJob({ jobId: ulid(), upstreamId: `up-${ulid()}` });
    await deps.jobs.create(job);
    return job;
  };
  const completed = (id: string, output: unknown): UpstreamStatus => ({ id, status: 'COMPLETED', output });

  beforeEach(() => {
    deps = testDeps({ ARTIFACTS_FETCH_URLS: 'true', WEBHOOK_VERIFICATION: 'trust' });
    fetcher = new ScriptedFetcher({
      'https://cdn.example/a.png': image,
      'https://cdn.example/b.png': image,
      'https://169.254.169.254/latest/meta-data/': {
        ok: false,
        outcome: 'refused',
        reason: '169.254.169.254 resolves to 169.254.169.254 (link-local)',
      },
      'https://slow.example/c.png': { ok: false, outcome: 'failed', reason: 'timed out after 10000 ms' },
    });
    deps.urlFetcher = fetcher;
  });

  it('stores fetched images after the embedded ones and audits refusals and failures without failing', async () => {
    const job = await seed();
    const output = [
      { image: 'https://cdn.example/a.png', seed: 1 },
      { image: 'https://169.254.169.254/latest/meta-data/' },
      { image: 'https://slow.example/c.png' },
      { image: `data:image/png;base64,${PNG.toString('base64')}`, caption: 'ftp://not-fetched.example/x' },
      { nested: { deeper: ['https://cdn.example/b.png'] } },
    ];
    const outcome = await captureResult(deps, job, {
      status: completed(job.upstreamId ?? '', output),
      raw: Buffer.from(JSON.stringify(completed(job.upstreamId ?? '', output))),
      source: 'sweeper',
    });

    expect(outcome.kind).toBe('archived');
    const prefix = `jobs/2026/11/29/${job.jobId}/artifacts`;
    expect(outcome.job.artifacts).toEqual([
      {
        key: `${prefix}/0-3-image.png`,
        contentType: 'image/png',
        bytes: PNG.length,
        from: 'output[3].image',
      },
      {
        key: `${prefix}/1-0-image.png`,
        contentType: 'image/png',
        bytes: PNG.length,
        from: 'output[0].image',
      },
      {
        key: `${prefix}/4-4-nested-deeper-0.png`,
        contentType: 'image/png',
        bytes: PNG.length,
        from: 'output[4].nested.deeper[0]',
      },
    ]);
    expect(deps.archive.objects.get(`${prefix}/1-0-image.png`)?.body.equals(PNG)).toBe(true);
    const events = await deps.jobs.listEvents(job.jobId);
    expect(events.find((e) => e.type === 'artifact.refused')?.detail).toEqual({
      from: 'output[1].image',
      reason: expect.stringContaining('link-local'),
    });
    expect(events.find((e) => e.type === 'artifact.failed')?.detail).toEqual({
      from: 'output[2].image',
      reason: 'timed out after 10000 ms',
    });
    expect(deps.metrics.get('ArtifactFetchFailures')).toBe(2);
    expect(fetcher.asked).not.toContain('ftp://not-fetched.example/x');
  });

  it('fetches nothing when ARTIFACTS_FETCH_URLS is off (the default)', async () => {
    deps = { ...testDeps(), urlFetcher: fetcher };
    const job = await seed();
    const status = completed(job.upstreamId ?? '', [{ image: 'https://cdn.example/a.png' }]);
    const outcome = await captureResult(deps, job, { status, source: 'sweeper' });
    expect(outcome.job.artifacts).toEqual([]);
    expect(fetcher.asked).toEqual([]);
  });

  it('bounds the work: at most 16 URLs per output, nothing past a depth of 32', async () => {
    const job = await seed();
    let deep: unknown = 'https://cdn.example/a.png';
    for (let i = 0; i < 40; i++) deep = [deep];
    const output = { many: Array.from({ length: 1000 }, () => 'https://cdn.example/b.png'), deep };
    await captureResult(deps, job, { status: completed(job.upstreamId ?? '', output), source: 'sweeper' });
    expect(fetcher.asked).toHaveLength(16);
    expect(fetcher.asked).not.toContain('https://cdn.example/a.png');
  });

  it('never follows a URL from a webhook body: the body is confirmed with /status, whose URLs are fetched', async () => {
    const job = await seed();
    const upstreamId = job.upstreamId ?? '';
    deps.upstream.statuses.set(upstreamId, completed(upstreamId, [{ image: 'https://cdn.example/a.png' }]));
    const forged = completed(upstreamId, [{ image: 'https://169.254.169.254/latest/meta-data/' }]);

    const outcome = await receiveWebhook(deps, {
      contentType: 'application/json',
      jobId: job.jobId,
      token: signWebhookToken(WEBHOOK_SECRET, job.jobId),
      body: Buffer.from(JSON.stringify(forged)),
    });

    expect(outcome).toBe('archived');
    expect(deps.upstream.count('status')).toBe(1);
    expect(fetcher.asked).toEqual(['https://cdn.example/a.png']);
    const events = await deps.jobs.listEvents(job.jobId);
    expect(events.find((e) => e.type === 'webhook.unusable')?.detail).toEqual({
      problem: 'URL fetching confirms with /status',
    });
  });

  it('a webhook body is still archived as is when URL fetching is off (under the trust policy)', async () => {
    deps = testDeps({ WEBHOOK_VERIFICATION: 'trust' });
    const job = await seed();
    const upstreamId = job.upstreamId ?? '';
    const outcome = await receiveWebhook(deps, {
      contentType: 'application/json',
      jobId: job.jobId,
      token: signWebhookToken(WEBHOOK_SECRET, job.jobId),
      body: Buffer.from(JSON.stringify(completed(upstreamId, { text: 'ok' }))),
    });
    expect(outcome).toBe('archived');
    expect(deps.upstream.count('status')).toBe(0);
  });
});
