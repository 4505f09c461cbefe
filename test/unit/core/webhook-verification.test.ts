// Verification policies: what a webhook body may decide about the archive, and how the archive says so.
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../functions/config.ts';
import { sweep } from '../../../functions/core/sweep.ts';
import { verificationPolicy } from '../../../functions/core/verify.ts';
import { receiveWebhook } from '../../../functions/core/webhook.ts';
import { signWebhookToken } from '../../../functions/core/webhook-token.ts';
import type { UpstreamStatus } from '../../../functions/schemas/upstream.ts';
import { TEST_ENV, type TestDeps, testDeps, WEBHOOK_SECRET } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const real: UpstreamStatus = {
  id: 'up-real',
  status: 'COMPLETED',
  delayTime: 12,
  executionTime: 34,
  output: { text: 'what the GPU said' },
};
const forged: UpstreamStatus = { ...real, output: { text: 'what the holder of the URL wants archived' } };

const resultJson = (jobId: string) => `jobs/2026/11/29/${jobId}/result.json`;
const deliveredJson = (jobId: string) => `jobs/2026/11/29/${jobId}/result.as-delivered.json`;

describe('webhook verification policies', () => {
  let deps: TestDeps;

  async function deliver(body: UpstreamStatus, endpoint = 'default') {
    const job = pendingJob({ upstreamId: body.id, endpoint });
    await deps.jobs.create(job);
    const token = signWebhookToken(WEBHOOK_SECRET, job.jobId);
    const payload = Buffer.from(
      JSON.stringify({ ...body, input: { p: 1 }, webhook: 'https://x/webhooks/j/t' }),
    );
    const outcome = await receiveWebhook(deps, {
      jobId: job.jobId,
      token,
      body: payload,
      contentType: 'application/json',
    });
    return { job, outcome };
  }
  const doc = (key: string) =>
    deps.archive.json(key) as { archive: Record<string, unknown>; status: UpstreamStatus };
  const sweepNow = () => sweep(deps, { remainingMs: () => 60_000 });

  describe('strict (the default)', () => {
    beforeEach(() => {
      deps = testDeps();
      deps.upstream.statuses.set(real.id, real);
    });

    it('archives what /status says, not what a body that matches the job says (F1)', async () => {
      const { job, outcome } = await deliver(forged);
      expect(outcome).toBe('archived');
      expect(deps.upstream.count('status')).toBe(1);
      const stored = await deps.jobs.get(job.jobId);
      expect(stored).toMatchObject({ provenance: 'verified', resultKey: resultJson(job.jobId) });
      expect(stored?.verification).toBeUndefined();
      expect(doc(resultJson(job.jobId)).status.output).toEqual(real.output);
      expect(doc(resultJson(job.jobId)).archive.provenance).toBe('verified');
      expect(deps.archive.objects.has(deliveredJson(job.jobId))).toBe(false);
    });

    it('says how the result is known on the archived audit event and the job event', async () => {
      const { job } = await deliver(real);
      const archived = deps.jobs.events.find((e) => e.jobId === job.jobId && e.type === 'archived');
      expect(archived?.detail).toMatchObject({ provenance: 'verified' });
      expect(deps.events.published[0]?.job.provenance).toBe('verified');
    });
  });

  describe('trust', () => {
    it('archives the body as delivered, says so, and never asks /status', async () => {
      deps = testDeps({ WEBHOOK_VERIFICATION: 'trust' });
      const { job } = await deliver(forged);
      expect(deps.upstream.count('status')).toBe(0);
      const stored = await deps.jobs.get(job.jobId);
      expect(stored).toMatchObject({ provenance: 'as-delivered', resultKey: deliveredJson(job.jobId) });
      expect(stored?.verification).toBeUndefined();
      expect(stored?.dueAt).toBeUndefined();
      expect(doc(deliveredJson(job.jobId)).archive.provenance).toBe('as-delivered');
    });

    it('applies per endpoint: one endpoint trusted, the others strict', async () => {
      deps = testDeps({ WEBHOOK_VERIFICATION_BY_ENDPOINT: JSON.stringify({ sdxl: 'trust' }) });
      deps.upstream.statuses.set(real.id, real);
      const trusted = await deliver(forged, 'sdxl');
      const strict = await deliver(forged, 'default');
      expect((await deps.jobs.get(trusted.job.jobId))?.provenance).toBe('as-delivered');
      expect((await deps.jobs.get(strict.job.jobId))?.provenance).toBe('verified');
      expect(deps.upstream.count('status')).toBe(1);
    });
  });

  describe('background', () => {
    beforeEach(() => {
      deps = testDeps({ WEBHOOK_VERIFICATION: 'background', LOOK_INTERVAL_MS: '60000' });
      deps.upstream.statuses.set(real.id, real);
    });

    it('archives at once as delivered, then one sweeper look confirms it', async () => {
      const { job } = await deliver(real);
      expect(deps.upstream.count('status')).toBe(0);
      const archived = await deps.jobs.get(job.jobId);
      expect(archived).toMatchObject({
        state: 'ARCHIVED',
        provenance: 'as-delivered',
        verification: 'pending',
      });
      expect(archived?.dueAt).toBe(deps.clock.now() + 60_000);
      expect(deps.events.published.map((e) => e.type)).toEqual(['Job Archived']);

      await sweepNow();
      expect(deps.upstream.count('status')).toBe(0);
      deps.clock.advance(60_000);
      await sweepNow();
      expect(deps.upstream.count('status')).toBe(1);
      const verified = await deps.jobs.get(job.jobId);
      expect(verified).toMatchObject({ verification: 'confirmed', provenance: 'as-delivered' });
      expect(verified?.dueAt).toBeUndefined();
      expect(deps.jobs.eventTypes(job.jobId)).toContain('verification.confirmed');
      expect(deps.events.published.map((e) => e.type)).toEqual(['Job Archived', 'Job Verified']);
      expect(deps.metrics.get('VerificationsConfirmed')).toBe(1);

      deps.clock.advance(600_000);
      await sweepNow();
      expect(deps.upstream.count('status')).toBe(1);
    });

    it('on a mismatch archives the /status result, keeps the body as evidence and alarms', async () => {
      const { job } = await deliver(forged);
      deps.clock.advance(60_000);
      await sweepNow();
      const stored = await deps.jobs.get(job.jobId);
      expect(stored).toMatchObject({
        provenance: 'verified',
        verification: 'mismatch',
        resultKey: resultJson(job.jobId),
        evidenceKey: deliveredJson(job.jobId),
      });
      expect(doc(resultJson(job.jobId)).status.output).toEqual(real.output);
      expect(doc(resultJson(job.jobId)).archive.provenance).toBe('verified');
      expect(doc(deliveredJson(job.jobId)).status.output).toEqual(forged.output);
      expect(deps.metrics.get('VerificationMismatches')).toBe(1);
      const mismatch = deps.jobs.events.find((e) => e.type === 'verification.mismatch');
      expect(mismatch?.detail).toMatchObject({ evidenceKey: deliveredJson(job.jobId) });
      expect(deps.events.published.at(-1)).toMatchObject({ type: 'Job Verified' });
    });

    it('a body that claims a final state early: waits for the real end, then replaces it', async () => {
      deps.upstream.statuses.set(real.id, { id: real.id, status: 'IN_PROGRESS' });
      const { job } = await deliver(forged);
      deps.clock.advance(60_000);
      await sweepNow();
      expect((await deps.jobs.get(job.jobId))?.verification).toBe('pending');
      deps.upstream.statuses.set(real.id, real);
      deps.clock.advance(120_000);
      await sweepNow();
      expect(await deps.jobs.get(job.jobId)).toMatchObject({
        verification: 'mismatch',
        provenance: 'verified',
      });
      expect(doc(resultJson(job.jobId)).status.output).toEqual(real.output);
    });

    it('marks a result unverifiable when the upstream forgot the job first, and counts it', async () => {
      const { job } = await deliver(real);
      deps.upstream.statuses.delete(real.id);
      deps.clock.advance(60_000);
      await sweepNow();
      expect(await deps.jobs.get(job.jobId)).toMatchObject({
        verification: 'unverifiable',
        provenance: 'as-delivered',
      });
      expect(deps.metrics.get('VerificationsUnverifiable')).toBe(1);
    });

    it('spends at most VERIFY_PER_PASS status calls of a pass on verification, the rest later', async () => {
      deps = testDeps({
        WEBHOOK_VERIFICATION: 'background',
        LOOK_INTERVAL_MS: '60000',
        VERIFY_PER_PASS: '1',
      });
      deps.upstream.statuses.set(real.id, real);
      const a = await deliver(real);
      const b = await deliver(real);
      deps.clock.advance(60_000);
      await sweepNow();
      expect(deps.upstream.count('status')).toBe(1);
      const states = [a, b].map(async ({ job }) => (await deps.jobs.get(job.jobId))?.verification);
      expect((await Promise.all(states)).sort()).toEqual(['confirmed', 'pending']);
      deps.clock.advance(60_000);
      await sweepNow();
      expect(deps.upstream.count('status')).toBe(2);
    });

    it('a writer that died before announcing: the sweeper announces, then verifies on schedule', async () => {
      const job = pendingJob({ upstreamId: real.id });
      await deps.jobs.create({
        ...job,
        state: 'ARCHIVED',
        upstreamStatus: 'COMPLETED',
        archivedAt: new Date(deps.clock.now()).toISOString(),
        provenance: 'as-delivered',
        verification: 'pending',
        announcePending: true,
        resultKey: deliveredJson(job.jobId),
        dueAt: deps.clock.now() + 120_000,
      });
      deps.clock.advance(120_000);
      await sweepNow();
      expect(deps.events.published.map((e) => e.type)).toEqual(['Job Archived']);
      expect(deps.upstream.count('status')).toBe(0);
      const announced = await deps.jobs.get(job.jobId);
      expect(announced?.verifyDueAt).toBe(deps.clock.now() + 60_000);
      expect(announced?.dueAt).toBe(announced?.verifyDueAt);
    });
  });

  describe('configuration', () => {
    const config = (env: Record<string, string>) => parseConfig({ ...TEST_ENV, ...env });

    it('defaults to strict; per-endpoint entries win over WEBHOOK_VERIFICATION', () => {
      expect(verificationPolicy(config({}), 'default')).toBe('strict');
      const mixed = config({
        WEBHOOK_VERIFICATION: 'background',
        WEBHOOK_VERIFICATION_BY_ENDPOINT: JSON.stringify({ sdxl: 'trust' }),
      });
      expect(verificationPolicy(mixed, 'default')).toBe('background');
      expect(verificationPolicy(mixed, 'sdxl')).toBe('trust');
    });

    it('the deprecated STRICT_WEBHOOKS=true still confirms every body, whatever else is set', () => {
      const legacy = config({ STRICT_WEBHOOKS: 'true', WEBHOOK_VERIFICATION: 'trust' });
      expect(verificationPolicy(legacy, 'default')).toBe('strict');
      expect(verificationPolicy(config({ STRICT_WEBHOOKS: 'false' }), 'default')).toBe('strict');
    });

    it('refuses an unknown policy, naming the variable', () => {
      expect(() => config({ WEBHOOK_VERIFICATION: 'lenient' })).toThrow(/WEBHOOK_VERIFICATION/);
      expect(() => config({ WEBHOOK_VERIFICATION_BY_ENDPOINT: '{"sdxl":"maybe"}' })).toThrow(
        /WEBHOOK_VERIFICATION_BY_ENDPOINT/,
      );
    });
  });
});
