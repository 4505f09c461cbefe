// The sweep lease on a real DynamoDB protocol: one invocation sweeps at a time, and a dead holder's lease runs out.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '../../functions/adapters/aws-clients.ts';
import { DynamoJobRepository } from '../../functions/adapters/dynamo-job-repository.ts';
import { DynamoSweepLease } from '../../functions/adapters/dynamo-sweep-lease.ts';
import { systemClock } from '../../functions/core/ports.ts';
import type { ServiceDeps } from '../../functions/core/services.ts';
import { sweepInvocation } from '../../functions/core/sweep-invocation.ts';
import { type LocalStores, startLocalStores } from '../../local/stores/index.ts';
import { dynamoTargets } from '../support/e2e-stack.ts';
import { ScriptedUpstream, testDeps } from '../support/fakes.ts';
import { pendingJob } from '../support/jobs.ts';

const TABLE = 'sweep-lease-test';
const targets = await dynamoTargets();

describe.each(targets)('sweep lease on $server', (target) => {
  let stores: LocalStores;
  const client = () =>
    createDynamoDocumentClient({
      endpoint: stores.dynamoEndpoint,
      region: stores.region,
      credentials: stores.credentials,
    });

  beforeAll(async () => {
    if (target.missing) throw new Error(target.missing);
    stores = await startLocalStores({
      dataDir: mkdtempSync(join(tmpdir(), 'sweep-lease-')),
      tableName: TABLE,
      bucketName: 'sweep-lease-test-bucket',
      dynamo: target.server,
      dynamoInMemory: true,
    });
  });
  afterAll(async () => {
    await stores?.stop();
  });

  it.skipIf(target.skip)(
    'is granted once, renewed by its holder, refused to others until it runs out',
    async () => {
      const lease = new DynamoSweepLease({ client: client(), tableName: TABLE });
      const now = Date.now();
      expect(await lease.take('g1', 'a', now, 10_000)).toBe(true);
      expect(await lease.take('g1', 'b', now + 1, 10_000)).toBe(false);
      expect(await lease.take('g1', 'a', now + 5000, 10_000)).toBe(true);
      // Renewed to now + 15 s: still refused at now + 12 s, granted once it ran out (a dead holder).
      expect(await lease.take('g1', 'b', now + 12_000, 10_000)).toBe(false);
      expect(await lease.take('g1', 'b', now + 15_001, 10_000)).toBe(true);
      // The old holder's release no longer touches the new holder's lease.
      await lease.release('g1', 'a');
      expect(await lease.take('g1', 'c', now + 15_002, 10_000)).toBe(false);
      await lease.release('g1', 'b');
      expect(await lease.take('g1', 'c', now + 15_003, 10_000)).toBe(true);
      // Groups are independent.
      expect(await lease.take('g2', 'a', now + 15_003, 10_000)).toBe(true);
    },
  );

  it.skipIf(target.skip)(
    'two sweeper invocations started together: every due job is looked at once, by one of them',
    async () => {
      // The lease outlasts a pass on a busy machine; the second invocation waits for it at most that long.
      const env = {
        DUE_SHARDS: '4',
        SWEEP_INVOCATION_MS: '0',
        SWEEP_LEASE_MS: '15000',
        SWEEP_SAFETY_MS: '1000',
      };
      const jobs = Array.from({ length: 40 }, () => pendingJob({ dueAt: Date.now() - 60_000 }));
      const seed = new DynamoJobRepository({ client: client(), tableName: TABLE, dueShards: 4 });
      for (const job of jobs) await seed.create(job);

      const polls: Array<{ sweeper: string; upstreamId: string; at: number }> = [];
      const sweeper = (name: string) => {
        const upstream = new ScriptedUpstream();
        const deps: ServiceDeps = {
          ...testDeps(env),
          clock: systemClock,
          upstream,
          jobs: new DynamoJobRepository({ client: client(), tableName: TABLE, dueShards: 4 }),
        };
        upstream.statusImpl = async (_endpoint, upstreamId) => {
          polls.push({ sweeper: name, upstreamId, at: Date.now() });
          // A slow upstream keeps the first pass running while the other invocation tries to start.
          await new Promise((resolve) => setTimeout(resolve, 20));
          const status = { id: upstreamId, status: 'COMPLETED', output: { ok: true } };
          return { status, raw: Buffer.from(JSON.stringify(status)) };
        };
        const lease = new DynamoSweepLease({ client: client(), tableName: TABLE });
        return sweepInvocation(deps, lease, { remainingMs: () => 60_000 });
      };
      const [a, b] = await Promise.all([sweeper('a'), sweeper('b')]);

      const byJob = new Map<string, string[]>();
      for (const p of polls) byJob.set(p.upstreamId, [...(byJob.get(p.upstreamId) ?? []), p.sweeper]);
      expect([...byJob.values()].filter((who) => who.length > 1)).toEqual([]);
      expect(byJob.size).toBe(jobs.length);
      expect(a.archived + b.archived).toBe(jobs.length);
      // One swept; the other either found the lease held or took it after release, with nothing left due.
      expect(new Set(polls.map((p) => p.sweeper)).size).toBe(1);
      for (const job of jobs) expect((await seed.get(job.jobId))?.state).toBe('ARCHIVED');
    },
  );
});
