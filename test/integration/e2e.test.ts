// End to end on real local servers: every capture path, failures, listing, downloads and bad input, on both DynamoDBs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../functions/core/job.ts';
import type { JobView, PublicJob } from '../../functions/core/results.ts';
import type { Emulator, JobSnapshot } from '../../local/emulator/index.ts';
import { LOCAL_ENDPOINT_ID } from '../../local/stack.ts';
import {
  type ApiErrorBody,
  type ArchiverApi,
  countEvents,
  download,
  eventTypes,
  fetchResult,
  fingerprint,
} from '../support/e2e-api.ts';
import { readPng } from '../support/e2e-png.ts';
import {
  archiveKeys,
  awaitPublished,
  callEmulator,
  dynamoTargets,
  type E2eStack,
  emulatorOf,
  jobPrefix,
  removeTempDirs,
  startE2eStack,
  warmUp,
} from '../support/e2e-stack.ts';
import { WAIT_CAP_MS } from '../support/wait.ts';

const targets = await dynamoTargets();

afterAll(removeTempDirs);

/** The upstream id the archiver recorded for a job. */
function upstreamIdOf(job: PublicJob): string {
  if (!job.upstreamId) throw new Error(`job ${job.jobId} has no upstream id (${job.state})`);
  return job.upstreamId;
}

/** The emulator's webhook body for a job, byte for byte as it sends it: status object + input + webhook, keys sorted. */
function webhookBodyOf(snap: JobSnapshot): string {
  const fields: Record<string, unknown> = { ...snap.statusObject, input: snap.input, webhook: snap.webhook };
  const sorted = Object.keys(fields)
    .sort()
    .map((key) => [key, fields[key]]);
  return JSON.stringify(Object.fromEntries(sorted));
}

const archivedEvents = (events: readonly AuditEvent[]) => events.filter((e) => e.type === 'archived');

describe.each(targets)('end to end on $server', (target) => {
  let e2e: E2eStack;
  let api: ArchiverApi;
  let emulator: Emulator;

  beforeAll(async () => {
    if (target.missing) throw new Error(target.missing);
    const started = performance.now();
    e2e = await startE2eStack(target.server);
    api = e2e.api;
    emulator = emulatorOf(e2e.stack);
    await warmUp(api);
    console.info(
      `${target.server}: local stack up and warm in ${Math.round(performance.now() - started)} ms`,
    );
  });
  afterAll(async () => {
    await e2e?.stop();
  });

  /** result.json holds exactly the bytes the emulator's /status served for the job. */
  async function expectExactStatusBytes(view: JobView): Promise<void> {
    const upstreamId = upstreamIdOf(view.job);
    const served = emulator.jobs.statusJson(upstreamId);
    if (served === undefined) throw new Error(`emulator forgot ${upstreamId}`);
    const result = await fetchResult(view);
    expect(fingerprint(result.statusBytes)).toEqual(fingerprint(served));
    expect(result.archive).toEqual({
      schemaVersion: 2,
      jobId: view.job.jobId,
      endpoint: 'default',
      upstreamId,
      createdAt: view.job.createdAt,
      // Strict by default: webhook captures too are confirmed with /status and archive its bytes.
      provenance: 'verified',
    });
    expect(view.job.resultBytes).toBe(result.bytes.length);
  }

  /** Exactly one archive: one `archived` audit event, one Job Archived event, one result object. */
  async function expectArchivedOnce(view: JobView): Promise<void> {
    expect(archivedEvents(view.events)).toHaveLength(1);
    const published = await awaitPublished(e2e.stack, view.job.jobId, 'Job Archived');
    expect(published).toHaveLength(1);
    expect(published[0]?.detail).toMatchObject({
      state: 'ARCHIVED',
      resultKey: view.job.resultKey,
      captureSource: view.job.captureSource,
    });
    const { inputKey, resultKey } = view.job;
    if (!inputKey || !resultKey) throw new Error('archived job without input or result key');
    const artifacts = (view.job.artifacts ?? []).map((a) => a.key);
    expect(await archiveKeys(e2e.stack, jobPrefix(resultKey))).toEqual(
      [inputKey, resultKey, ...artifacts].sort(),
    );
  }

  it('archives a finished job from its webhook, with its input, result and audit trail', async () => {
    const input = { prompt: 'a lighthouse at dawn', seed: 7 };
    const submitted = await api.submit({ input, metadata: { case: 'webhook' } });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/jobs/${submitted.body.job.jobId}`);
    expect(submitted.body.job.state).toBe('PENDING');

    const view = await api.archived(submitted.body.job.jobId);
    expect(view.job).toMatchObject({
      state: 'ARCHIVED',
      upstreamStatus: 'COMPLETED',
      captureSource: 'webhook',
      metadata: { case: 'webhook' },
    });
    // The webhook may even beat the record of /run's answer; then it confirms with /status (webhook.unusable).
    // The waiting GETs' links.issued lines fall anywhere after the input: the job's own story is the rest.
    const types = eventTypes(view.events).filter((type) => type !== 'links.issued');
    expect(types.slice(0, 2)).toEqual(['created', 'input.archived']);
    expect(types.at(-1)).toBe('archived');
    expect(types).toEqual(expect.arrayContaining(['submitted', 'webhook.received']));
    expect(types.filter((t) => t.startsWith('status.') || t.startsWith('capture.'))).toEqual([]);
    await expectArchivedOnce(view);
    await expectExactStatusBytes(view);

    const upstreamId = upstreamIdOf(view.job);
    const result = await fetchResult(view);
    expect(JSON.stringify(result.status.output)).toBe(emulator.jobs.outputJson(upstreamId));
    expect(result.status.output).toEqual({ text: 'a lighthouse at dawn' });
    // The upstream's callback carried the job's token; none of it ends up in the archive.
    expect(result.bytes.toString()).not.toContain('/webhooks/');

    if (!view.links.input) throw new Error('no input link');
    expect((await download(view.links.input)).bytes.toString()).toBe(JSON.stringify(input));

    const redirect = await api.request('GET', `/jobs/${view.job.jobId}/result`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location');
    if (!location) throw new Error('no redirect location');
    expect(fingerprint((await download(location)).bytes)).toEqual(fingerprint(result.bytes));
  });

  it('archives a job whose webhook never comes, through the sweeper', async () => {
    const job = await api.submitOk({
      input: { prompt: 'lost callback', _emulator: { webhook: { drop: true } } },
    });
    const view = await api.archived(job.jobId);
    expect(view.job).toMatchObject({ upstreamStatus: 'COMPLETED', captureSource: 'sweeper' });
    expect(countEvents(view.events, 'webhook.received')).toBe(0);
    const snap = emulator.jobs.get(upstreamIdOf(view.job));
    expect(snap?.webhookDeliveries.map((d) => d.outcome)).toEqual(['dropped']);
    await expectArchivedOnce(view);
    await expectExactStatusBytes(view);
  });

  it('archives once when the upstream delivers the webhook twice', async () => {
    const job = await api.submitOk({
      input: { prompt: 'said twice', _emulator: { webhook: { duplicate: true } } },
    });
    const view = await api.archived(job.jobId);
    const upstreamId = upstreamIdOf(view.job);
    await emulator.jobs.waitFor(upstreamId);
    // The duplicate follows the first delivery; wait until the archiver has recorded both.
    const settled = await waitForEvents(
      api,
      job.jobId,
      (events) => countEvents(events, 'webhook.received') === 2,
    );
    // The emulator records a delivery once its answer is read, which a busy machine can put after the
    // archiver's own record of it.
    const deliveries = () => emulator.jobs.get(upstreamId)?.webhookDeliveries ?? [];
    await until(() => deliveries().length >= 2, 'both deliveries recorded by the emulator');
    expect(deliveries().map((d) => [d.outcome, d.duplicate])).toEqual([
      ['delivered', false],
      ['delivered', true],
    ]);
    expect(settled.job.captureSource).toBe('webhook');
    // Usually the second delivery finds the job archived. On a loaded machine the first one's /status
    // confirmation (the strict default) can time out: it defers, and the second delivery archives instead.
    expect(countEvents(settled.events, 'webhook.duplicate')).toBeLessThanOrEqual(1);
    await expectArchivedOnce(settled);
    await expectExactStatusBytes(settled);
  });

  it('counts a flood of replayed webhooks on one tally, and pages the whole trail over HTTP', async () => {
    const job = await api.submitOk({ input: { prompt: 'replayed' } });
    const archived = await api.archived(job.jobId);
    const snap = await emulator.jobs.waitFor(upstreamIdOf(archived.job));
    const url = snap.webhook;
    if (!url) throw new Error('job without webhook URL');
    const body = webhookBodyOf(snap);
    const replays = 40;
    for (let i = 0; i < replays; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(200);
    }
    const all = await api.request<{ events: AuditEvent[] }>('GET', `/jobs/${job.jobId}/events?limit=500`);
    const duplicates = all.body.events.filter((e) => e.type === 'webhook.duplicate');
    // Five kept in full, then one tally that counts them all.
    expect(duplicates.filter((e) => e.count === undefined)).toHaveLength(5);
    expect(duplicates.find((e) => e.count !== undefined)?.count).toBeGreaterThanOrEqual(replays);
    expect(all.body.events.length).toBeLessThan(40);

    const paged: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const query = `limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await api.request<{ events: AuditEvent[]; cursor?: string }>(
        'GET',
        `/jobs/${job.jobId}/events?${query}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.events.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.events);
      cursor = page.body.cursor;
    } while (cursor);
    expect(paged).toEqual(all.body.events);
    const forged = await api.request('GET', `/jobs/${job.jobId}/events?cursor=bm9wZQ`);
    expect(forged.status).toBe(400);
  });

  it('archives once when replayed webhooks race the sweeper', async () => {
    // Four jobs whose own webhooks are lost. While the sweeper's /status polls for them are held at the
    // upstream, each job gets four concurrent deliveries of its real webhook body: every capture path hits
    // the same job at once.
    const jobs = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        api.submitOk({ input: { prompt: `race ${n}`, _emulator: { webhook: { drop: true } } } }),
      ),
    );
    const snaps = await Promise.all(jobs.map((job) => emulator.jobs.waitFor(upstreamIdOf(job))));
    const heldBefore = emulator.stats.delayedRequests;
    emulator.setFaults({ latencyMs: { status: 600 } });
    let answers: Array<{ status: number; outcome: string }>;
    try {
      await until(() => emulator.stats.delayedRequests - heldBefore >= jobs.length, 'sweeper polls held');
      answers = await Promise.all(
        snaps.flatMap((snap) => {
          const url = snap.webhook;
          if (!url) throw new Error('job without webhook URL');
          const body = webhookBodyOf(snap);
          return [1, 2, 3, 4].map(async () => {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
            });
            return { status: res.status, outcome: ((await res.json()) as { outcome: string }).outcome };
          });
        }),
      );
      // Runs after the racing sweep (runs never overlap): by then its captures are recorded.
      await e2e.stack.sweeper.runNow();
    } finally {
      emulator.setFaults({});
    }
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(['archived', 'duplicate', 'in-progress']).toContain(answer.outcome);
    }
    const traces = ['archived', 'webhook.duplicate', 'capture.duplicate', 'capture.concurrent'];
    for (const job of jobs) {
      const view = await api.archived(job.jobId);
      const bySource = (source: string) =>
        view.events.filter((e) => e.source === source && traces.includes(e.type)).length;
      // Each replay and the sweeper's look left exactly one trace: the archive itself, or a recorded duplicate.
      expect({ webhook: bySource('webhook'), sweeper: bySource('sweeper') }).toEqual({
        webhook: 4,
        sweeper: 1,
      });
      expect(countEvents(view.events, 'webhook.received')).toBe(4);
      await expectArchivedOnce(view);
      await expectExactStatusBytes(view);
    }
  });

  it('fetches the result itself when a webhook arrives with an empty or null body', async () => {
    const [empty, nullBody] = await Promise.all([
      api.submitOk({ input: { prompt: 'empty body', _emulator: { webhook: { body: 'empty' } } } }),
      api.submitOk({ input: { prompt: 'null body', _emulator: { webhook: { body: 'null' } } } }),
    ]);
    for (const job of [empty, nullBody]) {
      const view = await api.archived(job.jobId);
      // Straight away from /status; or, if the webhook beat the record of /run's answer (no upstream id to
      // ask about yet), at the sweeper's look it asked for. Never from the body.
      expect(['webhook', 'sweeper']).toContain(view.job.captureSource);
      const types = eventTypes(view.events).filter((type) => type !== 'links.issued');
      expect(types.indexOf('webhook.unusable')).toBeGreaterThan(types.indexOf('webhook.received'));
      expect(types.at(-1)).toBe('archived');
      const unusable = view.events.find((e) => e.type === 'webhook.unusable');
      expect(unusable?.detail).toEqual({ problem: 'empty or malformed body' });
      await expectArchivedOnce(view);
      await expectExactStatusBytes(view);
    }
  });

  it('archives an output over the 6 MB Lambda limit through the sweeper, byte for byte', async () => {
    const bytes = 9_000_000;
    const job = await api.submitOk({ input: { handler: 'large', bytes } });
    const view = await api.archived(job.jobId, 30_000);
    expect(view.job).toMatchObject({ captureSource: 'sweeper', upstreamStatus: 'COMPLETED' });
    // The webhook never reached the function: API Gateway refused the 9 MB body three times.
    const snap = emulator.jobs.get(upstreamIdOf(view.job));
    expect(snap?.webhookDeliveries.map((d) => d.httpStatus)).toEqual([413, 413, 413]);
    expect(countEvents(view.events, 'webhook.received')).toBe(0);
    expect(view.job.resultBytes).toBeGreaterThan(bytes);
    await expectArchivedOnce(view);
    await expectExactStatusBytes(view);
    const result = await fetchResult(view);
    expect(fingerprint(JSON.stringify(result.status.output))).toEqual(
      fingerprint(emulator.jobs.outputJson(upstreamIdOf(view.job)) ?? ''),
    );
  });

  it('archives FAILED, TIMED_OUT and CANCELLED jobs with their upstream status and error', async () => {
    const [failed, timedOut, cancelled] = await Promise.all([
      api.submitOk({ input: { handler: 'fail', message: 'CUDA out of memory' } }),
      api.submitOk({
        input: { prompt: 'too slow', durationMs: 60_000 },
        policy: { executionTimeout: 5_000 },
      }),
      api.submitOk({ input: { prompt: 'never mind', durationMs: 60_000 } }),
    ]);
    await emulator.jobs.waitFor(upstreamIdOf(cancelled), 'IN_PROGRESS');
    const cancel = await api.cancel(cancelled.jobId);
    expect(cancel.status).toBe(200);
    expect(cancel.body.job).toMatchObject({
      state: 'ARCHIVED',
      upstreamStatus: 'CANCELLED',
      captureSource: 'cancel',
    });
    const again = await api.cancel(cancelled.jobId);
    expect(again.status).toBe(409);

    const failedView = await api.archived(failed.jobId);
    expect(failedView.job).toMatchObject({ upstreamStatus: 'FAILED', captureSource: 'webhook' });
    expect(failedView.job.reason).toContain('CUDA out of memory');
    const failedResult = await fetchResult(failedView);
    expect(failedResult.status.error).toBe(emulator.jobs.get(upstreamIdOf(failed))?.error);

    // No webhook is sent for TIMED_OUT (as upstream): the sweeper finds it.
    const timedOutView = await api.archived(timedOut.jobId, 30_000);
    expect(timedOutView.job).toMatchObject({ upstreamStatus: 'TIMED_OUT', captureSource: 'sweeper' });
    const cancelledView = await api.view(cancelled.jobId);
    expect(eventTypes(cancelledView.events)).toContain('cancel.requested');

    for (const view of [failedView, timedOutView, cancelledView]) {
      await expectArchivedOnce(view);
      await expectExactStatusBytes(view);
    }
  });

  it('archives a sync:true job at once from the runsync answer', async () => {
    const res = await api.submit({ input: { prompt: 'right now' }, sync: true });
    expect(res.status).toBe(200);
    expect(res.body.job).toMatchObject({ state: 'ARCHIVED', upstreamStatus: 'COMPLETED' });
    // The job's webhook may reach the archiver before the runsync answer does, and on a loaded machine the
    // sweeper (which looks at runsync jobs within seconds) may get there first: whichever does archives it, once.
    expect(['runsync', 'webhook', 'sweeper']).toContain(res.body.job.captureSource);
    const view = await api.archived(res.body.job.jobId);
    expect(emulator.jobs.get(upstreamIdOf(view.job))?.sync).toBe(true);
    await expectArchivedOnce(view);
    await expectExactStatusBytes(view);
  });

  it('stores base64 and data-URI images from outputs as real PNG files behind presigned URLs', async () => {
    const [base64, dataUri] = await Promise.all([
      api.submitOk({ input: { handler: 'image-base64', width: 40, height: 24 } }),
      api.submitOk({ input: { handler: 'image-datauri', width: 16, height: 16 } }),
    ]);
    const cases = [
      { job: base64, size: [40, 24], field: 'image_base64' },
      { job: dataUri, size: [16, 16], field: 'image' },
    ] as const;
    for (const { job, size, field } of cases) {
      const view = await api.archived(job.jobId);
      expect(view.links.artifacts).toHaveLength(1);
      const [artifact] = view.links.artifacts;
      if (!artifact) throw new Error('no artifact');
      expect(artifact.key).toMatch(/\/artifacts\/0-[\w-]+\.png$/);
      const file = await download(artifact.url);
      expect(file.contentType).toBe('image/png');
      expect(file.bytes.length).toBe(artifact.bytes);
      const png = readPng(file.bytes);
      expect([png.width, png.height]).toEqual(size);
      // The file is exactly the image the worker produced.
      const output = emulator.jobs.get(upstreamIdOf(view.job))?.output as Record<string, string>;
      const encoded = (output[field] ?? '').replace(/^data:image\/png;base64,/, '');
      expect(file.bytes.equals(Buffer.from(encoded, 'base64'))).toBe(true);
      await expectArchivedOnce(view);
      await expectExactStatusBytes(view);
    }
  });

  it('lists jobs by state, newest first, across pages with a cursor', async () => {
    const batch = randomUUID();
    const archived: string[] = [];
    for (let n = 0; n < 5; n++) {
      archived.push((await api.submitOk({ input: { prompt: `page ${n}` }, metadata: { batch } })).jobId);
    }
    const pending = await api.submitOk({
      input: { prompt: 'still running', durationMs: 60_000 },
      metadata: { batch },
    });
    await Promise.all(archived.map((id) => api.archived(id)));

    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const query = { state: 'ARCHIVED', tag: `batch=${batch}`, limit: '2', ...(cursor && { cursor }) };
      const page = await api.list(query);
      expect(page.status).toBe(200);
      for (const job of page.body.jobs) expect(job).toMatchObject({ state: 'ARCHIVED', metadata: { batch } });
      seen.push(...page.body.jobs.map((j) => j.jobId));
      pages.push(page.body.jobs.length);
      cursor = page.body.cursor;
    } while (cursor);
    expect(pages.slice(0, 3)).toEqual([2, 2, 1]);
    expect(seen).toEqual([...archived].reverse());

    const running = await api.list({ state: 'PENDING', tag: `batch=${batch}` });
    expect(running.body.jobs.map((j) => j.jobId)).toEqual([pending.jobId]);
    // A cursor is bound to its query.
    const first = await api.list({ state: 'ARCHIVED', tag: `batch=${batch}`, limit: '2' });
    const mismatched = await api.list({
      state: 'PENDING',
      tag: `batch=${batch}`,
      cursor: first.body.cursor ?? '',
    });
    expect(mismatched.status).toBe(400);
    expect((mismatched.body as unknown as ApiErrorBody).error.code).toBe('INVALID_CURSOR');
    expect((await api.cancel(pending.jobId)).status).toBe(200);
  });

  it('never starts a second upstream job for a retried submit with the same Idempotency-Key', async () => {
    const key = `retry-${randomUUID()}`;
    const body = { input: { prompt: 'exactly once' } };
    const submittedBefore = emulator.stats.jobs.submitted;
    // Three copies of one request at once (a client retrying on a timeout), then a late retry.
    const racing = await Promise.all([1, 2, 3].map(() => api.submit(body, key)));
    const late = await api.submit(body, key);
    const first = racing.find((res) => res.headers.get('idempotent-replayed') === null);
    if (!first) throw new Error('no request created the job');
    expect(first.status).toBe(202);
    for (const res of [...racing, late]) expect(res.body.job.jobId).toBe(first.body.job.jobId);
    expect([...racing, late].filter((res) => res.headers.get('idempotent-replayed') === 'true')).toHaveLength(
      3,
    );
    const conflict = await api.submit({ input: { prompt: 'something else' } }, key);
    expect(conflict.status).toBe(422);
    expect((conflict.body as unknown as ApiErrorBody).error.code).toMatch(/IDEMPOTENCY/);

    const view = await api.archived(first.body.job.jobId);
    expect(emulator.stats.jobs.submitted - submittedBefore).toBe(1);
    expect(countEvents(view.events, 'created')).toBe(1);
    await expectArchivedOnce(view);
  });

  it('tracks jobs submitted straight to the upstream, finished or still running', async () => {
    const finished = await callEmulator(emulator, LOCAL_ENDPOINT_ID, 'run', {
      input: { prompt: 'elsewhere' },
    });
    const running = await callEmulator(emulator, LOCAL_ENDPOINT_ID, 'run', {
      input: { prompt: 'elsewhere, slowly', durationMs: 1500 },
    });
    const finishedId = (finished.json as { id: string }).id;
    const runningId = (running.json as { id: string }).id;
    await emulator.jobs.waitFor(finishedId);

    const adopted = await api.track(finishedId, { origin: 'cli' });
    expect(adopted.status).toBe(201);
    expect(adopted.body.job).toMatchObject({
      state: 'ARCHIVED',
      origin: 'tracked',
      captureSource: 'track',
      upstreamId: finishedId,
      metadata: { origin: 'cli' },
    });
    const again = await api.track(finishedId);
    expect(again.status).toBe(200);
    expect(again.body.job.jobId).toBe(adopted.body.job.jobId);
    const finishedView = await api.view(adopted.body.job.jobId);
    expect(finishedView.links.input).toBeUndefined();
    await expectExactStatusBytes(finishedView);
    expect(archivedEvents(finishedView.events)).toHaveLength(1);

    const tracked = await api.track(runningId);
    expect(tracked.status).toBe(201);
    expect(tracked.body.job.state).toBe('PENDING');
    const runningView = await api.archived(tracked.body.job.jobId);
    expect(runningView.job.captureSource).toBe('sweeper');
    await expectExactStatusBytes(runningView);
    expect(archivedEvents(runningView.events)).toHaveLength(1);
  });

  it('answers bad input with a 4xx JSON error and writes nothing', async () => {
    const newest = async () => (await api.list({ limit: '1' })).body.jobs[0]?.jobId;
    const before = {
      newest: await newest(),
      objects: (await archiveKeys(e2e.stack, 'jobs/')).length,
      upstream: emulator.stats.jobs.submitted,
    };
    const unknownJob = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    const cases: Array<{
      name: string;
      send: () => Promise<{ status: number; body: unknown }>;
      status: number;
      code: string;
    }> = [
      {
        name: 'not JSON',
        send: () =>
          api.request('POST', '/jobs', {
            rawBody: '{"input":',
            headers: { 'content-type': 'application/json' },
          }),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        name: 'empty body',
        send: () =>
          api.request('POST', '/jobs', { rawBody: '', headers: { 'content-type': 'application/json' } }),
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        name: 'input not an object',
        send: () => api.request('POST', '/jobs', { body: { input: 'hello' } }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'unknown field',
        send: () => api.request('POST', '/jobs', { body: { input: {}, priority: 9 } }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'policy out of range',
        send: () => api.request('POST', '/jobs', { body: { input: {}, policy: { executionTimeout: 10 } } }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'unknown endpoint',
        send: () => api.request('POST', '/jobs', { body: { input: {}, endpoint: 'nope' } }),
        status: 400,
        code: 'UNKNOWN_ENDPOINT',
      },
      {
        name: 'wrong content type',
        send: () =>
          api.request('POST', '/jobs', {
            rawBody: '{"input":{}}',
            headers: { 'content-type': 'text/plain' },
          }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'bad Idempotency-Key',
        send: () =>
          api.request('POST', '/jobs', { body: { input: {} }, headers: { 'idempotency-key': 'x' } }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'job id not a ULID',
        send: () => api.request('GET', '/jobs/not-a-job'),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'unknown job',
        send: () => api.request('GET', `/jobs/${unknownJob}`),
        status: 404,
        code: 'JOB_NOT_FOUND',
      },
      {
        name: 'cancel unknown job',
        send: () => api.request('POST', `/jobs/${unknownJob}/cancel`),
        status: 404,
        code: 'JOB_NOT_FOUND',
      },
      {
        name: 'bad state filter',
        send: () => api.list({ state: 'DONE' }),
        status: 400,
        code: 'INVALID_REQUEST',
      },
      {
        name: 'forged cursor',
        send: () => api.list({ cursor: 'bm90LWEtY3Vyc29y' }),
        status: 400,
        code: 'INVALID_CURSOR',
      },
      {
        name: 'track unknown upstream job',
        send: () => api.track('does-not-exist-u1'),
        status: 404,
        code: 'UPSTREAM_NOT_FOUND',
      },
      {
        name: 'forged webhook token',
        send: () =>
          api.request('POST', `/webhooks/${unknownJob}/forged-token`, {
            body: { id: 'x', status: 'COMPLETED' },
          }),
        status: 401,
        code: 'WEBHOOK_UNAUTHORIZED',
      },
    ];
    for (const c of cases) {
      const res = await c.send();
      expect({ name: c.name, status: res.status }).toEqual({ name: c.name, status: c.status });
      const error = (res.body as ApiErrorBody).error;
      expect({ name: c.name, code: error.code }).toEqual({ name: c.name, code: c.code });
      expect(typeof error.message).toBe('string');
      expect(error.details).toBeTypeOf('object');
    }
    expect({
      newest: await newest(),
      objects: (await archiveKeys(e2e.stack, 'jobs/')).length,
      upstream: emulator.stats.jobs.submitted,
    }).toEqual(before);
  });
});

/** Waits until `done()` holds (bounded by WAIT_CAP_MS: a cap against a hang, not a judgement of speed). */
async function until(done: () => boolean, what: string, timeoutMs = WAIT_CAP_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls a job's view until its audit trail satisfies `done` (bounded as `until` is). */
async function waitForEvents(
  api: ArchiverApi,
  jobId: string,
  done: (events: readonly AuditEvent[]) => boolean,
  timeoutMs = WAIT_CAP_MS,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await api.view(jobId);
    if (done(view.events)) return view;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId}: events now ${eventTypes(view.events).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
