// End to end across time: a result the upstream forgets before capture expires, and a stack restart loses nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicJob } from '../../functions/core/results.ts';
import { type Emulator, startEmulator } from '../../local/emulator/index.ts';
import {
  type ArchiverApi,
  countEvents,
  download,
  eventTypes,
  fetchResult,
  fingerprint,
} from '../support/e2e-api.ts';
import {
  awaitPublished,
  dynamoTargets,
  type E2eStack,
  emulatorOf,
  FAST_EMULATOR,
  publishedEvents,
  removeTempDirs,
  startE2eStack,
  tempDataDir,
  warmUp,
} from '../support/e2e-stack.ts';
import { WAIT_CAP_MS } from '../support/wait.ts';

const targets = await dynamoTargets();

afterAll(removeTempDirs);

function upstreamIdOf(job: PublicJob): string {
  if (!job.upstreamId) throw new Error(`job ${job.jobId} has no upstream id (${job.state})`);
  return job.upstreamId;
}

/** Waits (bounded) until `done()` holds. */
async function until(done: () => boolean, what: string, timeoutMs = WAIT_CAP_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** result.json of an archived job holds exactly what the emulator's /status served for it. */
async function expectArchivedAsServed(api: ArchiverApi, emulator: Emulator, jobId: string): Promise<void> {
  const view = await api.archived(jobId);
  expect(countEvents(view.events, 'archived')).toBe(1);
  const served = emulator.jobs.statusJson(upstreamIdOf(view.job));
  expect(fingerprint((await fetchResult(view)).statusBytes)).toEqual(fingerprint(served ?? ''));
}

describe.each(targets)('end to end over time on $server', (target) => {
  describe('a result the upstream forgets before the sweeper looks', () => {
    let e2e: E2eStack;

    beforeAll(async () => {
      if (target.missing) throw new Error(target.missing);
      // Results live 1 s upstream, but the sweeper first looks 2.5 s after submit: only a webhook saves them.
      e2e = await startE2eStack(target.server, {
        config: { FIRST_LOOK_MS: '2500', LOOK_INTERVAL_MS: '2500' },
        emulator: { retentionMs: 1000 },
      });
      await warmUp(e2e.api);
    });
    afterAll(async () => {
      await e2e?.stop();
    });

    it('marks the job EXPIRED, publishes Job Expired and keeps the audit trail; a delivered webhook still archives', async () => {
      const { api } = e2e;
      const emulator = emulatorOf(e2e.stack);
      const [lost, saved] = await Promise.all([
        api.submitOk({ input: { prompt: 'forgotten', _emulator: { webhook: { drop: true } } } }),
        api.submitOk({ input: { prompt: 'called back' } }),
      ]);

      const view = await api.waitForState(lost.jobId, ['EXPIRED']);
      expect(emulator.jobs.get(upstreamIdOf(view.job))?.removed).toBe('expired');
      expect(view.job).toMatchObject({
        state: 'EXPIRED',
        upstreamStatus: 'IN_QUEUE',
        reason: 'upstream answered 404 before the result was captured',
      });
      expect(view.job.expiredAt).toBeDefined();
      expect(view.job.resultKey).toBeUndefined();
      // Every GET of the job while waiting issued links, each audited: the job's own story is the rest.
      const story = eventTypes(view.events).filter((type) => type !== 'links.issued');
      expect(story).toEqual(['created', 'input.archived', 'submitted', 'expired']);
      expect(view.links.result).toBeUndefined();
      // What was sent is still kept.
      if (!view.links.input) throw new Error('no input link');
      expect(JSON.parse((await download(view.links.input)).bytes.toString())).toEqual({
        prompt: 'forgotten',
        _emulator: { webhook: { drop: true } },
      });
      await awaitPublished(e2e.stack, lost.jobId, 'Job Expired');
      const expired = publishedEvents(e2e.stack).filter((e) => e.detail.jobId === lost.jobId);
      expect(expired.map((e) => e.type)).toEqual(['Job Expired']);
      expect(expired[0]?.detail).toMatchObject({
        state: 'EXPIRED',
        resultKey: null,
        reason: view.job.reason,
      });
      // The metric the "results lost" alarm watches.
      expect(e2e.stack.runtime.metrics.totals.get('JobsExpired')).toBe(1);
      const listed = await api.list({ state: 'EXPIRED' });
      expect(listed.body.jobs.map((j) => j.jobId)).toEqual([lost.jobId]);

      const savedView = await api.archived(saved.jobId);
      expect(savedView.job.captureSource).toBe('webhook');
      expect(JSON.stringify((await fetchResult(savedView)).status.output)).toBe(
        emulator.jobs.outputJson(upstreamIdOf(savedView.job)),
      );
    });
  });

  describe('a stop and restart of the archiver while jobs are in flight', () => {
    const ENDPOINT = 'gpu-pool';
    let emulator: Emulator;
    let dataDir: string;
    let first: E2eStack | undefined;
    let second: E2eStack | undefined;

    beforeAll(async () => {
      if (target.missing) throw new Error(target.missing);
      // The upstream outlives the archiver: its own emulator, given to both stacks as a real upstream.
      emulator = await startEmulator(FAST_EMULATOR);
      dataDir = await tempDataDir();
    });
    afterAll(async () => {
      await first?.stop();
      await second?.stop();
      await emulator?.stop();
    });

    const start = () =>
      startE2eStack(target.server, {
        dataDir,
        persistent: true,
        upstream: { baseUrl: emulator.baseUrlFor(ENDPOINT), apiKey: emulator.apiKey },
      });

    it('archives every job exactly once, whatever finished while it was down', async () => {
      first = await start();
      const before = first.api;
      const done = await before.submitOk({ input: { prompt: 'before the stop' } });
      const doneView = await before.archived(done.jobId);
      const doneBytes = (await fetchResult(doneView)).bytes;

      // Hold new jobs in the upstream's queue so that they finish only once the archiver is down.
      emulator.configureEndpoint(ENDPOINT, { workers: 0 });
      const inFlight = await Promise.all([
        before.submitOk({ input: { prompt: 'webhook to nobody 1' } }),
        before.submitOk({ input: { prompt: 'webhook to nobody 2' } }),
        before.submitOk({ input: { prompt: 'no webhook at all', _emulator: { webhook: { drop: true } } } }),
        before.submitOk({ input: { handler: 'fail', message: 'failed while nobody listened' } }),
        before.submitOk({ input: { prompt: 'still running across the restart', durationMs: 2500 } }),
      ]);
      const key = `restart-${Date.now()}`;
      const keyed = await before.submit({ input: { prompt: 'sent once' } }, key);
      expect(keyed.status).toBe(202);
      await first.stop();
      first = undefined;

      emulator.configureEndpoint(ENDPOINT, { workers: 8 });
      const [quick1, quick2, dropped, failed] = inFlight.map(upstreamIdOf);
      const finishedWhileDown = [quick1, quick2, dropped, failed].flatMap((id) => (id ? [id] : []));
      await Promise.all(finishedWhileDown.map((id) => emulator.jobs.waitFor(id)));
      // Every webhook try went to a stopped gateway.
      for (const id of [quick1, quick2, failed]) {
        if (!id) throw new Error('missing upstream id');
        await until(
          () => (emulator.jobs.get(id)?.webhookDeliveries.length ?? 0) === 3,
          'three webhook tries',
        );
        expect(emulator.jobs.get(id)?.webhookDeliveries.map((d) => d.outcome)).toEqual([
          'network-error',
          'network-error',
          'network-error',
        ]);
      }

      second = await start();
      const after = second.api;
      const upstreamJobs = emulator.stats.jobs.submitted;
      const retried = await after.submit({ input: { prompt: 'sent once' } }, key);
      expect(retried.body.job.jobId).toBe(keyed.body.job.jobId);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(emulator.stats.jobs.submitted).toBe(upstreamJobs);

      const all = [...inFlight, keyed.body.job];
      for (const job of all) {
        await expectArchivedAsServed(after, emulator, job.jobId);
        await awaitPublished(second.stack, job.jobId, 'Job Archived');
      }
      for (const job of inFlight.slice(0, 4)) {
        expect((await after.view(job.jobId)).job.captureSource).toBe('sweeper');
      }
      expect((await after.view(inFlight[3]?.jobId ?? '')).job.upstreamStatus).toBe('FAILED');
      const archivedNow = publishedEvents(second.stack).filter((e) => e.type === 'Job Archived');
      expect(archivedNow.map((e) => e.detail.jobId).sort()).toEqual(all.map((j) => j.jobId).sort());

      // The job archived before the stop is untouched, and its archive survived the restart.
      const doneAfter = await after.view(done.jobId);
      expect(doneAfter.job).toEqual(doneView.job);
      expect(countEvents(doneAfter.events, 'archived')).toBe(1);
      expect(fingerprint((await fetchResult(doneAfter)).bytes)).toEqual(fingerprint(doneBytes));
      const listed = await after.list({ state: 'ARCHIVED', limit: '100' });
      expect(listed.body.jobs.map((j) => j.jobId).sort()).toEqual([done, ...all].map((j) => j.jobId).sort());
    });
  });
});
