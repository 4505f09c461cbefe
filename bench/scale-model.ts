// Item 7 on paper: AWS cost per million jobs and the limits that bind first, from the measured per-job counts.
import { DUE_SHARDS, LIST_SHARDS } from '../functions/adapters/table-definition.ts';
import { SWEEPER_STATUS_LIMITS } from '../lib/constructs/archiver-functions.ts';
import type { LifecycleResult, PathCounts } from './lifecycle.ts';
import type { BenchContext } from './support/context.ts';
import { requestTotal } from './support/counting.ts';
import { type Figure, figure } from './support/figures.ts';

/**
 * List prices, us-east-1, on-demand, as known in 2025: assumptions to check against the pricing pages.
 * Lambda arm64 per GB-s and per request; HTTP API per request (first 300 M); DynamoDB on-demand after the
 * November 2024 cut; S3 Standard; EventBridge custom events; CloudWatch Logs ingestion.
 */
export const PRICES = {
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  httpApiRequest: 1.0 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  dynamoGbMonth: 0.25,
  pitrGbMonth: 0.2,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  s3GbMonth: 0.023,
  eventBridgeEvent: 1.0 / 1e6,
  logsIngestGb: 0.5,
} as const;

/** In-region latencies used to turn request counts into billed Lambda time (assumptions). */
export const AWS_LATENCY_MS = { dynamo: 6, s3Put: 30, upstream: 150, invocation: 5 } as const;
/** lib/: submit, webhook and sweeper run with 1024 MB. */
const MEMORY_GB = 1;
/** Structured logs and EMF lines per invocation (assumption). */
const LOG_BYTES_PER_INVOCATION = 1500;
/** Per-item storage overhead DynamoDB bills, on the table and on every index copy. */
const ITEM_OVERHEAD = 100;
/** A KEYS_ONLY listing entry: pk, sk, jobId and the sharded day key with their names (~110 bytes). */
const LISTING_ENTRY_BYTES = 110;
/** Issue 15's scale: 1,000 jobs/s spread over ten endpoints. */
const FLEET_JOBS_PER_S = 1000;
const FLEET_ENDPOINTS = 10;

/** Documented limits (AWS defaults and UPSTREAM.md). */
export const LIMITS = {
  upstreamRunPerS: 100,
  upstreamStatusPerS: 200,
  /** The sweeper fleet's own /status rate per endpoint, shared out among its groups. */
  clientStatusPerS: SWEEPER_STATUS_LIMITS.ratePer10s / 10,
  dynamoPartitionWcuPerS: 1000,
  dueShards: DUE_SHARDS,
  s3PutPerPrefixPerS: 3500,
  lambdaConcurrency: 1000,
  sweepConcurrency: 32,
} as const;

const TARGET_JOBS_PER_S = 100;

interface Usage {
  httpRequests: number;
  invocations: number;
  lambdaSeconds: number;
  writeUnits: number;
  readUnits: number;
  s3Puts: number;
  events: number;
  dynamoBytes: number;
  s3Bytes: number;
}

const dynamoRequests = (c: PathCounts) => requestTotal(c.dynamo.requests);
const s3Puts = (c: PathCounts) =>
  (c.s3.requests.PutObjectCommand ?? 0) + (c.s3.requests.UploadPartCommand ?? 0);

/** Billed seconds of sequential calls: every request in these functions waits for the previous one. */
const sequentialSeconds = (dynamo: number, puts: number, upstream: number) =>
  (dynamo * AWS_LATENCY_MS.dynamo + puts * AWS_LATENCY_MS.s3Put + upstream * AWS_LATENCY_MS.upstream) / 1000;

/**
 * What one job uses. The submit runs alone in its invocation; a webhook capture in its own; sweeper looks
 * share one invocation 32 at a time under the sweeper's /status limiter, so a look bills 1/rate seconds.
 */
function usageOf(total: PathCounts, submit: PathCounts, captureBy: 'webhook' | 'sweeper'): Usage {
  const captureDynamo = dynamoRequests(total) - dynamoRequests(submit);
  const capturePuts = s3Puts(total) - s3Puts(submit);
  const submitSeconds =
    sequentialSeconds(dynamoRequests(submit), s3Puts(submit), 1) + AWS_LATENCY_MS.invocation / 1000;
  const lookSeconds = sequentialSeconds(
    captureDynamo / Math.max(1, total.statusCallsPerJob),
    capturePuts / Math.max(1, total.statusCallsPerJob),
    1,
  );
  const lookRate = Math.min(LIMITS.clientStatusPerS, LIMITS.sweepConcurrency / lookSeconds);
  const captureSeconds =
    captureBy === 'webhook'
      ? sequentialSeconds(captureDynamo, capturePuts, total.statusCallsPerJob) +
        (total.webhookPostsPerJob * AWS_LATENCY_MS.invocation) / 1000
      : total.statusCallsPerJob / lookRate;
  const webhooks = captureBy === 'webhook' ? total.webhookPostsPerJob : 0;
  const s = total.dynamo.stored;
  return {
    httpRequests: 1 + webhooks,
    invocations: 1 + webhooks,
    lambdaSeconds: submitSeconds + captureSeconds,
    writeUnits: total.dynamo.writeUnits,
    readUnits: total.dynamo.readUnits,
    s3Puts: s3Puts(total),
    events: 1,
    // The job item lives in the table; the two KEYS_ONLY listing indexes hold its keys; events and links once.
    dynamoBytes:
      s.jobItemBytes +
      ITEM_OVERHEAD +
      2 * (LISTING_ENTRY_BYTES + ITEM_OVERHEAD) +
      s.otherItemBytes +
      s.otherItems * ITEM_OVERHEAD,
    s3Bytes: total.s3.bytesUploaded,
  };
}

/** Dollars per million jobs, by component; storage is per month kept. */
function costPerMillion(u: Usage): Record<string, number> {
  const m = 1e6;
  const gb = (bytes: number) => (bytes * m) / 2 ** 30;
  return {
    httpApi: u.httpRequests * m * PRICES.httpApiRequest,
    lambdaRequests: u.invocations * m * PRICES.lambdaRequest,
    lambdaDuration: u.lambdaSeconds * MEMORY_GB * m * PRICES.lambdaGbSecond,
    dynamoWrites: u.writeUnits * m * PRICES.dynamoWriteUnit,
    dynamoReads: u.readUnits * m * PRICES.dynamoReadUnit,
    s3Puts: u.s3Puts * m * PRICES.s3Put,
    eventBridge: u.events * m * PRICES.eventBridgeEvent,
    logs: gb(u.invocations * LOG_BYTES_PER_INVOCATION) * PRICES.logsIngestGb,
    dynamoStoragePerMonth: gb(u.dynamoBytes) * (PRICES.dynamoGbMonth + PRICES.pitrGbMonth),
    s3StoragePerMonth: gb(u.s3Bytes) * PRICES.s3GbMonth,
  };
}

const total = (costs: Record<string, number>) => Object.values(costs).reduce((n, v) => n + v, 0);

/** The least anything can cost: one request, one invocation, one put, one single-item write per job. */
function bareArchive(u: Usage): Usage {
  return {
    httpRequests: 1,
    invocations: 1,
    lambdaSeconds: sequentialSeconds(1, 1, 0) + AWS_LATENCY_MS.invocation / 1000,
    writeUnits: 1,
    readUnits: 0,
    s3Puts: 1,
    events: 0,
    dynamoBytes: 400,
    s3Bytes: u.s3Bytes,
  };
}

export function scaleModelFigures(ctx: BenchContext, result: LifecycleResult): Figure[] {
  const c = result.counts;
  const submit = c.submit;
  const ok = c['short-ok'];
  const lost = c['short-lost'];
  const longLost = c['long-lost'];
  if (!submit || !ok || !lost || !longLost) return [];
  const okUsage = usageOf(ok, submit, 'webhook');
  const lostUsage = usageOf(lost, submit, 'sweeper');
  const okCost = costPerMillion(okUsage);
  const lostCost = costPerMillion(lostUsage);
  const bareCost = costPerMillion(bareArchive(okUsage));
  const byDay = ok.dynamo.writeUnitsByTarget.byDay ?? 0;
  const byEndpointDay = ok.dynamo.writeUnitsByTarget.byEndpointDay ?? 0;
  const due = ok.dynamo.writeUnitsByTarget.due ?? 0;
  const listingIfAll =
    (ok.dynamo.writeUnitsByTarget['ifAll:byDay'] ?? 0) +
    (ok.dynamo.writeUnitsByTarget['ifAll:byEndpointDay'] ?? 0);
  // Write units a second on one listing key at 1,000 jobs/s over ten endpoints, against a partition's 1,000.
  const byDayKeyShare = (FLEET_JOBS_PER_S * byDay) / LIST_SHARDS / LIMITS.dynamoPartitionWcuPerS;
  const byEndpointDayKeyShare =
    ((FLEET_JOBS_PER_S / FLEET_ENDPOINTS) * byEndpointDay) / LIST_SHARDS / LIMITS.dynamoPartitionWcuPerS;
  const lambdaSecondsAt = (u: Usage) => u.lambdaSeconds * TARGET_JOBS_PER_S;
  const limits: { key: string; label: string; maxJobsPerS: number; note: string }[] = [
    {
      key: 'upstreamRun',
      label: 'upstream /run (1000 per 10 s)',
      maxJobsPerS: LIMITS.upstreamRunPerS / Math.max(1, ok.runCallsPerJob),
      note: 'per endpoint; queued jobs are paced fleet-wide at 970/10 s, direct submits by an 800/10 s limiter per container',
    },
    {
      key: 'statusLost',
      label: 'sweeper status, webhooks lost, 5–90 s jobs',
      maxJobsPerS: LIMITS.clientStatusPerS / Math.max(0.01, lost.statusCallsPerJob),
      note: `the sweeper fleet at ${SWEEPER_STATUS_LIMITS.ratePer10s}/10 s per endpoint, whatever its groups; ${lost.statusCallsPerJob} /status per job`,
    },
    {
      key: 'statusLostLong',
      label: 'sweeper status, webhooks lost, 2.5–8 min jobs',
      maxJobsPerS: LIMITS.clientStatusPerS / Math.max(0.01, longLost.statusCallsPerJob),
      note: `a look that finds a job running schedules the next from the retention it guarantees; ${longLost.statusCallsPerJob} /status per job`,
    },
    {
      key: 'byDay',
      label: `DynamoDB byDay index, ${LIST_SHARDS} keys per day (all endpoints)`,
      maxJobsPerS: (LIST_SHARDS * LIMITS.dynamoPartitionWcuPerS) / Math.max(0.01, byDay),
      note: `${byDay.toFixed(1)} WCU per job over ${LIST_SHARDS} keys; 1000 WCU/s per partition`,
    },
    {
      key: 'byEndpointDay',
      label: `DynamoDB byEndpointDay index: ${LIST_SHARDS} keys per endpoint and day`,
      maxJobsPerS: (LIST_SHARDS * LIMITS.dynamoPartitionWcuPerS) / Math.max(0.01, byEndpointDay),
      note: `${byEndpointDay.toFixed(1)} WCU per job over ${LIST_SHARDS} keys, per endpoint`,
    },
    {
      key: 'due',
      label: `DynamoDB due index: ${LIMITS.dueShards} shard keys`,
      maxJobsPerS: (LIMITS.dueShards * LIMITS.dynamoPartitionWcuPerS) / Math.max(0.01, due),
      note: `${due.toFixed(1)} WCU per job over ${LIMITS.dueShards} keys`,
    },
    {
      key: 's3Prefix',
      label: 'S3 PUTs under one day prefix',
      maxJobsPerS: LIMITS.s3PutPerPrefixPerS / Math.max(0.01, s3Puts(ok)),
      note: '3500 PUT/s per prefix before S3 splits it',
    },
    {
      key: 'lambda',
      label: 'Lambda concurrency (account default 1000)',
      maxJobsPerS: (LIMITS.lambdaConcurrency / lambdaSecondsAt(okUsage)) * TARGET_JOBS_PER_S,
      note: `${lambdaSecondsAt(okUsage).toFixed(0)} concurrent executions at 100 jobs/s`,
    },
  ];
  ctx.detail('scaleModel', {
    prices: PRICES,
    latencyAssumptionsMs: AWS_LATENCY_MS,
    usagePerJob: { webhooks: okUsage, webhooksLost: lostUsage },
    costPerMillion: { webhooks: okCost, webhooksLost: lostCost, bareArchive: bareCost },
    limits,
  });
  const dollars = (costs: Record<string, number>) => total(costs);
  return [
    figure({
      item: 7,
      key: 'scale.cost.webhooks',
      label: 'AWS cost per million jobs, webhooks working',
      value: dollars(okCost),
      unit: '$',
      baseline: { label: 'bare archive: 1 request, 1 put, 1 write', value: dollars(bareCost), unit: '$' },
      goal: { on: 'value', op: '<=', target: 20 },
      note: 'including one month of storage; prices and latencies are assumptions (docs/scale.md)',
    }),
    figure({
      item: 7,
      key: 'scale.cost.webhooksLost',
      label: 'AWS cost per million jobs, every webhook lost',
      value: dollars(lostCost),
      unit: '$',
      baseline: { label: 'bare archive: 1 request, 1 put, 1 write', value: dollars(bareCost), unit: '$' },
    }),
    figure({
      item: 7,
      key: 'scale.indexWrites.listing',
      label: 'listing index write units per job (byDay + byEndpointDay), webhooks working',
      value: byDay + byEndpointDay,
      unit: 'WRU',
      baseline: {
        label: 'the same writes with both indexes projecting ALL',
        value: listingIfAll,
        unit: 'WRU',
      },
      goal: { on: 'value', op: '<=', target: 2 },
      note: 'computed from the item writes of each job life (support/counting.ts); DynamoDB Local reports the same (test/integration/job-listing.test.ts)',
    }),
    figure({
      item: 7,
      key: 'scale.indexWrites.perJob',
      label: 'index write units per job, every index, webhooks working',
      value: Object.entries(ok.dynamo.writeUnitsByTarget)
        .filter(([target]) => target !== 'table' && !target.startsWith('ifAll:'))
        .reduce((n, [, v]) => n + v, 0),
      unit: 'WRU',
      baseline: {
        label: 'write units on the table itself',
        value: ok.dynamo.writeUnitsByTarget.table ?? 0,
        unit: 'WRU',
      },
    }),
    figure({
      item: 7,
      key: 'scale.listingKey.byDay',
      label: 'busiest byDay key at 1,000 jobs/s, share of its partition write limit',
      value: byDayKeyShare,
      unit: '×',
      goal: { on: 'value', op: '<=', target: 0.1 },
      note: `${(byDayKeyShare * LIMITS.dynamoPartitionWcuPerS).toFixed(0)} WCU/s per key (${LIST_SHARDS} per day), hash evenness aside`,
    }),
    figure({
      item: 7,
      key: 'scale.listingKey.byEndpointDay',
      label:
        'busiest byEndpointDay key at 1,000 jobs/s over 10 endpoints, share of its partition write limit',
      value: byEndpointDayKeyShare,
      unit: '×',
      goal: { on: 'value', op: '<=', target: 0.1 },
      note: `${(byEndpointDayKeyShare * LIMITS.dynamoPartitionWcuPerS).toFixed(1)} WCU/s per key; one endpoint with all 1,000 jobs/s: ${((FLEET_JOBS_PER_S * byEndpointDay) / LIST_SHARDS).toFixed(0)}`,
    }),
    ...limits
      .sort((a, b) => a.maxJobsPerS - b.maxJobsPerS)
      .map((limit) =>
        figure({
          item: 7,
          key: `scale.limit.${limit.key}`,
          label: `max jobs/s: ${limit.label}`,
          value: limit.maxJobsPerS,
          unit: '/s',
          baseline: { label: 'target', value: TARGET_JOBS_PER_S, unit: '/s' },
          note: limit.note,
        }),
      ),
  ];
}
