// One contract for every JobRepository: the DynamoDB adapter on dynalite and DynamoDB Local, and the in-memory fake.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monotonicFactory } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import { ConcurrentUpdateError } from '../../functions/core/errors.ts';
import type { AuditEvent, Job } from '../../functions/core/job.ts';
import type { JobRepository } from '../../functions/core/ports.ts';
import { ANNOUNCE_AFTER_MS } from '../../functions/core/transitions.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { dynamoTargets } from '../support/e2e-stack.ts';
import { InMemoryJobRepository } from '../support/in-memory-job-repository.ts';

const TABLE = 'contract-test';
const SHARDS = 4;
const nextId = monotonicFactory();

type Target = { store: 'memory' } | { store: 'dynalite' | 'dynamodb-local'; missing?: string };
// A server that cannot run here (no Java, outside CI) is left out with the warning dynamoTargets prints;
// under CI it stays in and fails with what to install.
const targets: Target[] = [
  { store: 'memory' },
  ...(await dynamoTargets())
    .filter((t) => !t.skip)
    .map((t) => ({ store: t.server, ...(t.missing && { missing: t.missing }) })),
];

describe.each(targets)('JobRepository contract on $store', (target) => {
  let stores: LocalStores | undefined;
  let repo: JobRepository;

  beforeAll(async () => {
    if (target.store === 'memory') {
      repo = new InMemoryJobRepository(SHARDS);
      return;
    }
    if ('missing' in target && target.missing) throw new Error(target.missing);
    stores = await startLocalStores({
      dynamo: target.store,
      dataDir: mkdtempSync(join(tmpdir(), 'contract-')),
      tableName: TABLE,
      bucketName: 'contract-test-bucket',
      dynamoInMemory: true,
    });
    const client = createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });
    repo = new DynamoJobRepository({ client, tableName: TABLE, dueShards: SHARDS });
  });
  afterAll(async () => {
    await stores?.stop();
  });

  const NOW = Date.parse('2026-11-21T00:00:00Z');
  const job = (overrides: Partial<Job> = {}): Job => ({
    jobId: nextId(NOW),
    endpoint: 'default',
    state: 'PENDING',
    origin: 'submitted',
    createdAt: new Date(NOW).toISOString(),
    upstreamId: `up-${Math.random().toString(36).slice(2)}`,
    dueAt: NOW - 1,
    ...overrides,
  });
  const created = async (overrides: Partial<Job> = {}) => {
    const j = job(overrides);
    await repo.create(j);
    return j;
  };
  const dueIds = async (nowMs: number) =>
    (await Promise.all([0, 1, 2, 3].map((s) => repo.queryDue(s, nowMs, 1000)))).flat().map((j) => j.jobId);

  it('creates a job once: a second create of the same id is a conflict', async () => {
    const j = await created();
    await expect(repo.create(j)).rejects.toThrow(ConcurrentUpdateError);
    expect(await repo.get(j.jobId)).toEqual(j);
    expect(await repo.get('01JDXKQ5N8Y3V7M2R6T4W9NONE')).toBeUndefined();
  });

  it('gives the capture lease to one owner at a time, until it runs out', async () => {
    const j = await created();
    const first = await repo.claimCapture(j.jobId, 'a', NOW, 1000);
    expect(first).toMatchObject({ claimed: true, job: { leaseOwner: 'a', leaseUntil: NOW + 1000 } });
    // The loser learns who holds it from the claim's own answer.
    expect(await repo.claimCapture(j.jobId, 'b', NOW + 10, 1000)).toMatchObject({
      claimed: false,
      job: { jobId: j.jobId, leaseOwner: 'a' },
    });
    expect((await repo.claimCapture(j.jobId, 'a', NOW + 20, 1000)).claimed).toBe(true);
    expect((await repo.claimCapture(j.jobId, 'b', NOW + 20 + 1001, 1000)).claimed).toBe(true);
    expect(await repo.claimCapture('01JDXKQ5N8Y3V7M2R6T4W9NONE', 'a', NOW, 1000)).toEqual({ claimed: false });
  });

  it('archives only under the lease, keeping the job due and pending its announcement until announced', async () => {
    const j = await created();
    await repo.claimCapture(j.jobId, 'owner', NOW, 1000);
    await expect(repo.archive(j.jobId, 'thief', { resultKey: 'k' }, NOW)).rejects.toThrow(
      ConcurrentUpdateError,
    );
    const archived = await repo.archive(j.jobId, 'owner', { resultKey: 'k', reason: null }, NOW);
    expect(archived).toMatchObject({ state: 'ARCHIVED', resultKey: 'k', announcePending: true });
    expect(archived.dueAt).toBe(NOW + ANNOUNCE_AFTER_MS);
    expect(archived.leaseOwner).toBeUndefined();
    // A crash here leaves it for the sweeper: due once its writer's lease would have run out.
    expect(await dueIds(NOW + ANNOUNCE_AFTER_MS)).toContain(j.jobId);
    expect((await repo.claimCapture(j.jobId, 'late', NOW + 1, 1000)).claimed).toBe(false);

    const announced = await repo.markAnnounced(j.jobId, 'ARCHIVED', NOW + 5);
    expect(announced.announcePending).toBeUndefined();
    expect(announced.announcedAt).toBe(new Date(NOW + 5).toISOString());
    expect(await dueIds(Number.MAX_SAFE_INTEGER)).not.toContain(j.jobId);
    expect((await repo.get(j.jobId))?.dueAt).toBeUndefined();
  });

  it('keeps an announced job due at its verification look, and lets it go once verified', async () => {
    const j = await created();
    await repo.claimCapture(j.jobId, 'o', NOW, 1000);
    await repo.archive(j.jobId, 'o', { verification: 'pending' }, NOW);
    const announced = await repo.markAnnounced(j.jobId, 'ARCHIVED', NOW, NOW + 60_000);
    expect(announced).toMatchObject({ dueAt: NOW + 60_000, verifyDueAt: NOW + 60_000 });
    expect(await dueIds(NOW + 60_000)).toContain(j.jobId);
    await repo.scheduleVerification(j.jobId, NOW + 90_000);
    expect(await dueIds(NOW + 60_000)).not.toContain(j.jobId);
    const verified = await repo.settleVerification(j.jobId, { verification: 'confirmed' });
    expect(verified.verification).toBe('confirmed');
    expect(verified.dueAt).toBeUndefined();
    expect(await dueIds(Number.MAX_SAFE_INTEGER)).not.toContain(j.jobId);
  });

  it('gives a pending announcement to one announcer, taken over only once its claim runs out', async () => {
    const j = await created();
    await repo.expire(j.jobId, 'gone', NOW);
    const at = NOW + ANNOUNCE_AFTER_MS;
    const claimed = await repo.claimAnnouncement(j.jobId, 'EXPIRED', 'one', at);
    expect(claimed).toMatchObject({ leaseOwner: 'one', dueAt: at + ANNOUNCE_AFTER_MS });
    await expect(repo.claimAnnouncement(j.jobId, 'EXPIRED', 'two', at + 1)).rejects.toThrow(
      ConcurrentUpdateError,
    );
    // The first claimer died: the next sweep after its claim ran out takes over.
    const later = at + ANNOUNCE_AFTER_MS + 1;
    expect(await repo.claimAnnouncement(j.jobId, 'EXPIRED', 'two', later)).toMatchObject({
      leaseOwner: 'two',
    });
    await expect(repo.releaseAnnouncement(j.jobId, 'EXPIRED', 'one', later)).rejects.toThrow(
      ConcurrentUpdateError,
    );
    expect(await repo.releaseAnnouncement(j.jobId, 'EXPIRED', 'two', later)).toMatchObject({ dueAt: later });
    await repo.markAnnounced(j.jobId, 'EXPIRED', later);
    await expect(repo.claimAnnouncement(j.jobId, 'EXPIRED', 'three', later * 2)).rejects.toThrow(
      ConcurrentUpdateError,
    );
  });

  it('lets one request claim the run, and rejects as unsent only while nobody has', async () => {
    const j = await created({ state: 'SUBMITTING', upstreamId: undefined });
    const claim = { inputKey: 'in', inputBytes: 2, runAttemptedAt: 'now', runClaim: 'r1' };
    await repo.claimRun(j.jobId, claim);
    await expect(repo.claimRun(j.jobId, { ...claim, runClaim: 'r2' })).rejects.toThrow(ConcurrentUpdateError);
    expect((await repo.get(j.jobId))?.runClaim).toBe('r1');
    await expect(repo.reject(j.jobId, 'never sent', NOW, { unsent: true })).rejects.toThrow(
      ConcurrentUpdateError,
    );
    const rejected = await repo.reject(j.jobId, 'refused', NOW);
    expect(rejected).toMatchObject({ state: 'REJECTED', reason: 'refused', announcePending: true });
    // Settled: no transition of a watched job applies any more.
    await expect(repo.reschedule(j.jobId, { dueAt: NOW })).rejects.toThrow(ConcurrentUpdateError);
    await expect(repo.markSubmitted(j.jobId, { upstreamId: 'u' }, NOW)).rejects.toThrow(
      ConcurrentUpdateError,
    );
  });

  it('returns a job taken from the queue to QUEUED only while no run claim is held, and due', async () => {
    const queuedAt = new Date(NOW).toISOString();
    const direct = await created({ state: 'SUBMITTING', upstreamId: undefined });
    // Never queued: not the queue's to take back.
    await expect(repo.returnToQueue(direct.jobId, NOW)).rejects.toThrow(ConcurrentUpdateError);
    const j = await created({ state: 'QUEUED', upstreamId: undefined, queuedAt, dueAt: NOW + 60_000 });
    await repo.claimForSubmit(j.jobId, NOW + 30_000);
    const returned = await repo.returnToQueue(j.jobId, NOW - 1);
    expect(returned).toMatchObject({ state: 'QUEUED', dueAt: NOW - 1 });
    expect(await dueIds(NOW)).toContain(j.jobId);
    await repo.claimForSubmit(j.jobId, NOW + 30_000);
    await repo.claimRun(j.jobId, { inputKey: 'in', inputBytes: 2, runAttemptedAt: 'now', runClaim: 'r1' });
    await expect(repo.returnToQueue(j.jobId, NOW)).rejects.toThrow(ConcurrentUpdateError);
  });

  it('gives a run claim back only for the request holding it, keeping the archived input', async () => {
    const j = await created({ state: 'SUBMITTING', upstreamId: undefined });
    const claim = { inputKey: 'in', inputBytes: 2, runAttemptedAt: 'now', runClaim: 'r1' };
    await repo.claimRun(j.jobId, claim);
    await expect(repo.releaseRunClaim(j.jobId, 'r2')).rejects.toThrow(ConcurrentUpdateError);
    const released = await repo.releaseRunClaim(j.jobId, 'r1');
    expect(released).toMatchObject({ state: 'SUBMITTING', inputKey: 'in', inputBytes: 2 });
    expect(released.runAttemptedAt).toBeUndefined();
    expect(released.runClaim).toBeUndefined();
    // Unsent again: a retry may claim it, and only its own claim can be given back.
    await repo.claimRun(j.jobId, { ...claim, runClaim: 'r2' });
    await expect(repo.releaseRunClaim(j.jobId, 'r1')).rejects.toThrow(ConcurrentUpdateError);
    await repo.markSubmitted(j.jobId, { upstreamId: 'u' }, NOW);
    await expect(repo.releaseRunClaim(j.jobId, 'r2')).rejects.toThrow(ConcurrentUpdateError);
  });

  it('archives a late result of an expired job once its expiry is announced, under the lease', async () => {
    const j = await created();
    await repo.expire(j.jobId, 'gone upstream', NOW);
    // Still being announced: the announcer's write would cut a lease taken now.
    expect((await repo.claimCapture(j.jobId, 'late', NOW, 1000)).claimed).toBe(false);
    await repo.markAnnounced(j.jobId, 'EXPIRED', NOW + 1);
    expect(await repo.claimCapture(j.jobId, 'late', NOW + 2, 1000)).toMatchObject({
      claimed: true,
      job: { state: 'EXPIRED', leaseOwner: 'late' },
    });
    expect((await repo.claimCapture(j.jobId, 'other', NOW + 3, 1000)).claimed).toBe(false);
    await expect(repo.releaseLease(j.jobId, 'other')).rejects.toThrow(ConcurrentUpdateError);
    expect((await repo.releaseLease(j.jobId, 'late')).leaseOwner).toBeUndefined();
    await repo.claimCapture(j.jobId, 'late', NOW + 4, 1000);
    await expect(repo.archive(j.jobId, 'other', { resultKey: 'k' }, NOW + 5)).rejects.toThrow(
      ConcurrentUpdateError,
    );
    const archived = await repo.archive(j.jobId, 'late', { resultKey: 'k', reason: null }, NOW + 5);
    expect(archived).toMatchObject({ state: 'ARCHIVED', resultKey: 'k', announcePending: true });
    expect(archived.reason).toBeUndefined();
    expect(archived.expiredAt).toBe(new Date(NOW).toISOString());
    expect((await repo.claimCapture(j.jobId, 'again', NOW + 6 + 1000, 1000)).claimed).toBe(false);
    // Other settled states take nothing late.
    const refused = await created({ state: 'SUBMITTING', upstreamId: undefined });
    await repo.reject(refused.jobId, 'refused', NOW);
    await repo.markAnnounced(refused.jobId, 'REJECTED', NOW);
    expect((await repo.claimCapture(refused.jobId, 'late', NOW, 1000)).claimed).toBe(false);
  });

  it('moves a watched job through its looks, and frees a lease only for its holder', async () => {
    const j = await created({ state: 'SUBMITTING', upstreamId: undefined });
    const pending = await repo.markSubmitted(
      j.jobId,
      { upstreamId: 'u1', upstreamStatus: 'IN_QUEUE' },
      NOW + 5,
    );
    expect(pending).toMatchObject({ state: 'PENDING', upstreamId: 'u1', dueAt: NOW + 5 });
    await expect(repo.markSubmitted(j.jobId, { upstreamId: 'u1' }, NOW)).rejects.toThrow(
      ConcurrentUpdateError,
    );
    await repo.recordStatus(j.jobId, { upstreamStatus: 'IN_PROGRESS', lastSeenAt: 'then' }, NOW + 50);
    expect(await repo.reschedule(j.jobId, { dueAt: NOW + 70, looks: 2 })).toMatchObject({
      upstreamStatus: 'IN_PROGRESS',
      looks: 2,
      dueAt: NOW + 70,
    });
    expect(await dueIds(NOW + 69)).not.toContain(j.jobId);
    expect(await dueIds(NOW + 70)).toContain(j.jobId);
    await repo.claimCapture(j.jobId, 'holder', NOW, 1000);
    await expect(repo.releaseLease(j.jobId, 'other')).rejects.toThrow(ConcurrentUpdateError);
    const released = await repo.releaseLease(j.jobId, 'holder');
    expect(released.leaseOwner).toBeUndefined();
    expect(await repo.markSubmitAmbiguous(j.jobId).catch((e) => e)).toBeInstanceOf(ConcurrentUpdateError);
  });

  it('claims an Idempotency-Key for one job until it expires, and frees it only for its holder', async () => {
    const key = `key-${nextId()}`;
    const claim = (jobId: string, nowMs: number) =>
      repo.claimIdempotencyKey({ key, requestHash: 'h', jobId, nowMs, expiresAtMs: nowMs + 10_000 });
    expect(await claim('j1', NOW)).toEqual({ claimed: true });
    expect(await claim('j2', NOW + 1000)).toEqual({ claimed: false, jobId: 'j1', requestHash: 'h' });
    // A claim naming our own job is ours (a lost answer's retry).
    expect(await claim('j1', NOW + 1000)).toEqual({ claimed: true });
    // Expired: no longer blocks, whenever TTL deletion gets to it.
    expect(await claim('j2', NOW + 10_000)).toEqual({ claimed: true });
    await repo.releaseIdempotencyKey(key, 'j1');
    expect(await claim('j3', NOW + 11_000)).toEqual({ claimed: false, jobId: 'j2', requestHash: 'h' });
    await repo.releaseIdempotencyKey(key, 'j2');
    expect(await claim('j3', NOW + 11_000)).toEqual({ claimed: true });
  });

  it('appends each event once per id, one at a time or in a batch, in order', async () => {
    const j = await created();
    const at = (ms: number) => new Date(NOW + ms).toISOString();
    await repo.appendEvent({ jobId: j.jobId, at: at(0), type: 'created' }, 'e0');
    await repo.appendEvent({ jobId: j.jobId, at: at(0), type: 'created' }, 'e0');
    const batch = Array.from({ length: 30 }, (_, i) => ({
      event: { jobId: j.jobId, at: at(i + 1), type: 'status.polled' as const, detail: { i } },
      eventId: `b${i}`,
    }));
    await repo.appendEvents(batch);
    await repo.appendEvents(batch.slice(0, 2));
    const events = await repo.listEvents(j.jobId);
    expect(events.map((e) => e.detail?.i ?? e.type)).toEqual(['created', ...batch.map((_, i) => i)]);
  });

  it('tallies repeats on one item, counting a retried event once, with reserved attribute names', async () => {
    const j = await created();
    const at = (s: number) => `2026-11-23T00:00:${String(s).padStart(2, '0')}.000Z`;
    const dup = (s: number, extra: Partial<AuditEvent> = {}): AuditEvent => ({
      jobId: j.jobId,
      at: at(s),
      type: 'webhook.duplicate',
      source: 'webhook',
      detail: { upstreamStatus: 'COMPLETED', n: s },
      ...extra,
    });
    expect(await repo.countEvent(dup(1), 'e1')).toBe(1);
    expect(await repo.countEvent(dup(1), 'e1')).toBe(1);
    expect(await repo.countEvent(dup(2, { actor: 'arn:aws:iam::1:user/a' }), 'e2')).toBe(2);
    expect(await repo.countEvent(dup(3), 'e3')).toBe(3);
    await repo.appendEvent({ jobId: j.jobId, at: at(0), type: 'archived' });

    const events = await repo.listEvents(j.jobId);
    expect(events.map((e) => e.type)).toEqual(['archived', 'webhook.duplicate']);
    // The latest event's fields, none left over from an earlier one (no actor since the third had none).
    expect(events[1]).toEqual({ ...dup(3), count: 3, firstAt: at(1) });
  });

  it('pages the audit trail oldest first, tallies last, each event once', async () => {
    const j = await created();
    const total = 23;
    for (let i = 0; i < total; i++) {
      await repo.appendEvent({
        jobId: j.jobId,
        at: new Date(Date.parse('2026-11-24T00:00:00Z') + i).toISOString(),
        type: 'status.polled',
        detail: { i },
      });
    }
    await repo.countEvent({ jobId: j.jobId, at: '2026-11-24T00:00:00.000Z', type: 'links.issued' }, 'x');
    const seen: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await repo.listEventPage(j.jobId, 5, cursor);
      expect(page.events.length).toBeLessThanOrEqual(5);
      seen.push(...page.events.map((e) => e.detail?.i ?? e.type));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual([...[...Array(total).keys()], 'links.issued']);
  });
});
