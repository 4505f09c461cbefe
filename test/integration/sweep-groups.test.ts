// Sweep groups on a real DynamoDB protocol: two groups sweep at once, each its own shards under its own lease.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import { DynamoSweepLease } from '../../functions/adapters/dynamo-sweep-lease.ts';
import { systemClock } from '../../functions/core/ports.ts';
import { dueShardOf } from '../../functions/core/schedule.ts';
import type { ServiceDeps } from '../../functions/core/services.ts';
import { sweepInvocation } from '../../functions/core/sweep-invocation.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { ScriptedUpstream, testDeps } from '../support/fakes.ts';
import { pendingJob } from '../support/jobs.ts';

const TABLE = 'sweep-groups-test';

describe('sweep groups on dynalite', () => {
  let stores: LocalStores;
  const client = () =>
    createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });
  beforeAll(async () => {
    stores = await startLocalStores({
      dataDir: mkdtempSync(join(tmpdir(), 'sweep-groups-')),
      tableName: TABLE,
      bucketName: 'sweep-groups-test-bucket',
      dynamoInMemory: true,
    });
  });
  afterAll(async () => {
    await stores?.stop();
  });

  it('two groups started together both sweep, each only its own shards: every job looked at once', async () => {
    const env = { DUE_SHARDS: '4', SWEEP_GROUPS: '2', SWEEP_INVOCATION_MS: '0', SWEEP_LEASE_MS: '15000' };
    const jobs = Array.from({ length: 40 }, () => pendingJob({ dueAt: Date.now() - 60_000 }));
    const seed = new DynamoJobRepository({ client: client(), tableName: TABLE, dueShards: 4 });
    for (const job of jobs) await seed.create(job);

    const polls: Array<{ group: string; upstreamId: string }> = [];
    const sweeper = (group: string) => {
      const upstream = new ScriptedUpstream();
      const deps: ServiceDeps = {
        ...testDeps(env),
        clock: systemClock,
        upstream,
        jobs: new DynamoJobRepository({ client: client(), tableName: TABLE, dueShards: 4 }),
      };
      upstream.statusImpl = async (_endpoint, upstreamId) => {
        polls.push({ group, upstreamId });
        await new Promise((resolve) => setTimeout(resolve, 20));
        const status = { id: upstreamId, status: 'COMPLETED', output: { ok: true } };
        return { status, raw: Buffer.from(JSON.stringify(status)) };
      };
      const lease = new DynamoSweepLease({ client: client(), tableName: TABLE });
      return sweepInvocation(deps, lease, { remainingMs: () => 60_000, group });
    };
    const [a, b] = await Promise.all([sweeper('0of2'), sweeper('1of2')]);

    expect(a.leaseHeld && b.leaseHeld).toBe(true);
    expect(a.archived + b.archived).toBe(jobs.length);
    expect(new Set(polls.map((p) => p.upstreamId)).size).toBe(polls.length);
    for (const job of jobs) {
      const group = `${dueShardOf(job.jobId, 4) % 2}of2`;
      expect(polls.find((p) => p.upstreamId === job.upstreamId)?.group).toBe(group);
      expect((await seed.get(job.jobId))?.state).toBe('ARCHIVED');
    }
  });
});
