// The fleet-wide /run rate item on a real DynamoDB wire protocol: concurrent submitters never share a start time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient, createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoRunRate } from '../../functions/adapters/dynamo-run-rate.ts';
import { ensureTable, type RunningStore, startDynalite } from '../../local/stores/index.ts';

const credentials = { accessKeyId: 'rate-test', secretAccessKey: 'rate-test-secret' };
const TABLE = 'rate-test';

describe('DynamoRunRate (dynalite)', () => {
  let store: RunningStore;
  let client: ReturnType<typeof createDynamoDocumentClient>;
  beforeAll(async () => {
    store = await startDynalite({ credentials });
    const raw = createDynamoClient({ endpoint: store.endpoint, region: 'us-east-1', credentials });
    await ensureTable(raw, TABLE, { ttl: false });
    client = createDynamoDocumentClient(raw);
  });
  afterAll(async () => {
    client.destroy();
    await store.stop();
  });

  it('hands eight concurrent submitters start times at least one interval apart, all within the horizon', async () => {
    const intervalMs = 10;
    const submitters = Array.from(
      { length: 8 },
      () => new DynamoRunRate({ client, tableName: TABLE, intervalMs }),
    );
    const nowMs = 1_000_000;
    const taken = await Promise.all(submitters.map((rate) => rate.take('ep', 10, nowMs, 10_000)));
    const all = taken.flat().sort((a, b) => a - b);
    // A contended round may come back short (its writes lost every race), never overlapping.
    expect(all.length).toBeGreaterThan(0);
    all.forEach((t, i) => {
      if (i > 0) expect(t - (all[i - 1] ?? 0)).toBeGreaterThanOrEqual(intervalMs);
      expect(t).toBeLessThanOrEqual(nowMs + 10_000);
    });
  });

  it('gives nothing while paused after a 429, and resumes at the pause end', async () => {
    const rate = new DynamoRunRate({ client, tableName: TABLE, intervalMs: 10 });
    expect(await rate.backOff('paused', 900, 1_000, 4_000)).toBe(5_000);
    expect(await rate.take('paused', 3, 1_000, 2_000)).toEqual([]);
    expect(await rate.take('paused', 3, 4_000, 2_000)).toEqual([5_000, 5_010, 5_020]);
    // Taking start times keeps the pause on the item: the next 429 still knows the episode.
    expect(await rate.lastPause('paused')).toEqual({ at: 1_000, ms: 4_000 });
  });

  it('pauses once for eight submitters meeting one full queue, and doubles when it is still full after', async () => {
    const submitters = Array.from(
      { length: 8 },
      () => new DynamoRunRate({ client, tableName: TABLE, intervalMs: 10 }),
    );
    // Their /runs all started before any pause: one pause, however the writes race.
    const resumes = await Promise.all(
      submitters.map((rate, i) => rate.backOff('full', 10_000 + i, 10_100, 0)),
    );
    expect(new Set(resumes)).toEqual(new Set([11_100]));
    expect(await submitters[0]?.lastPause('full')).toEqual({ at: 10_100, ms: 1_000 });
    expect(await submitters[1]?.backOff('full', 11_100, 11_200, 0)).toBe(13_200);
    expect(await submitters[2]?.lastPause('full')).toEqual({ at: 11_200, ms: 2_000 });
  });
});
