// Counting middleware for the SDK clients: requests by command, DynamoDB items read and estimated capacity units.
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE_INDEXES, TABLE_KEYS } from '../../functions/adapters/table-definition.ts';

export interface DynamoCounts {
  /** Requests by command name (GetItemCommand, QueryCommand, ...). */
  requests: Record<string, number>;
  /** Items DynamoDB read to answer: Query/Scan ScannedCount plus GetItem hits. */
  itemsRead: number;
  scans: number;
  /** Estimated on-demand read request units (4 KB steps; eventually consistent counts half). */
  readUnits: number;
  /** Estimated write request units, base table and every global secondary index the write touches. */
  writeUnits: number;
  /**
   * The same write units by where they land: `table` or an index name. `ifAll:{index}` (not part of
   * writeUnits) is what the same writes would cost that index if it projected ALL: the baseline of a
   * KEYS_ONLY index.
   */
  writeUnitsByTarget: Record<string, number>;
  /** Stored size estimate: the job item (largest version written) and every other item put (events, links). */
  stored: { jobItemBytes: number; otherItemBytes: number; otherItems: number };
}

export interface S3Counts {
  requests: Record<string, number>;
  bytesUploaded: number;
}

type Item = Record<string, unknown>;

const KB = 1024;
const INDEXES = Object.values(TABLE_INDEXES);

const isRecord = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** DynamoDB's item size rule, approximately: attribute names plus values (numbers ~1 byte per 2 digits). */
export function itemBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + itemBytes(v), 0);
  if (isRecord(value)) {
    return 3 + Object.entries(value).reduce((n, [k, v]) => n + Buffer.byteLength(k) + 1 + itemBytes(v), 0);
  }
  return 0;
}

const writeUnitsFor = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));

/** Attribute names an update expression SETs and REMOVEs, with `#alias` names resolved. */
function updatedNames(input: Item): { set: Set<string>; removed: Set<string> } {
  const expression = typeof input.UpdateExpression === 'string' ? input.UpdateExpression : '';
  const aliases = isRecord(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
  const resolve = (name: string) => {
    const alias = aliases[name.trim()];
    return typeof alias === 'string' ? alias : name.trim();
  };
  const set = new Set<string>();
  const removed = new Set<string>();
  const setPart = /SET\s+(.*?)(?=\s+REMOVE\s|$)/s.exec(expression)?.[1] ?? '';
  for (const assignment of setPart.split(',')) set.add(resolve(assignment.split('=')[0] ?? ''));
  const removePart = /REMOVE\s+(.*?)(?=\s+SET\s|$)/s.exec(expression)?.[1] ?? '';
  for (const name of removePart.split(',')) if (name.trim()) removed.add(resolve(name));
  return { set, removed };
}

type Index = (typeof INDEXES)[number];

/** The size of an index entry that holds keys only: the table's key and the index's key. */
function keysOnlyBytes(item: Item, index: Index): number {
  const names = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, index.partitionKey, index.sortKey];
  return itemBytes(Object.fromEntries(names.filter((n) => n in item).map((n) => [n, item[n]])));
}

/** An index copy as ALL projects it: any change to an item it holds rewrites the copy, a key move twice. */
function allProjectionUnits(
  index: Index,
  units: number,
  set: Set<string>,
  removed: Set<string>,
  after: Item,
) {
  const key = index.partitionKey;
  if (removed.has(key)) return units; // leaves the (sparse) index
  if (!(key in after)) return 0;
  return set.has(index.sortKey) || set.has(key) ? 2 * units : units; // a key moved: delete + put
}

/**
 * An index copy as KEYS_ONLY projects it: written only when the write adds, moves or drops its keys
 * (DynamoDB writes no index entry for an update that changes no attribute the index holds).
 */
function keysOnlyUnits(index: Index, set: Set<string>, removed: Set<string>, after: Item) {
  if (removed.has(index.partitionKey)) return 1;
  if (!(index.partitionKey in after) || !(set.has(index.partitionKey) || set.has(index.sortKey))) return 0;
  return 2 * writeUnitsFor(keysOnlyBytes(after, index));
}

/**
 * Write units of a put or update, by where they land: the base table and each index copy the write adds,
 * moves or drops, as the index's projection makes it (see allProjectionUnits and keysOnlyUnits).
 */
function writeUnits(command: string, input: Item, output: Item): Record<string, number> {
  if (command === 'PutItemCommand') {
    const item = isRecord(input.Item) ? input.Item : {};
    const units = writeUnitsFor(itemBytes(item));
    const out: Record<string, number> = { table: units };
    for (const index of INDEXES) {
      if (!(index.partitionKey in item)) continue;
      out[index.name] = index.projection === 'ALL' ? units : writeUnitsFor(keysOnlyBytes(item, index));
      if (index.projection !== 'ALL') out[`ifAll:${index.name}`] = units;
    }
    return out;
  }
  if (command === 'UpdateItemCommand') {
    const after = isRecord(output.Attributes) ? output.Attributes : {};
    const units = writeUnitsFor(itemBytes(after));
    const { set, removed } = updatedNames(input);
    const out: Record<string, number> = { table: units };
    for (const index of INDEXES) {
      const all = allProjectionUnits(index, units, set, removed, after);
      const actual = index.projection === 'ALL' ? all : keysOnlyUnits(index, set, removed, after);
      if (actual > 0) out[index.name] = actual;
      if (index.projection !== 'ALL' && all > 0) out[`ifAll:${index.name}`] = all;
    }
    return out;
  }
  if (command === 'DeleteItemCommand') return { table: 1 };
  return {};
}

function readUnits(command: string, input: Item, output: Item): number {
  const consistent = input.ConsistentRead === true;
  const factor = consistent ? 1 : 0.5;
  if (command === 'GetItemCommand') {
    const item = isRecord(output.Item) ? output.Item : undefined;
    return factor * Math.max(1, Math.ceil((item ? itemBytes(item) : 0) / (4 * KB)));
  }
  if (command === 'QueryCommand' || command === 'ScanCommand') {
    const items = Array.isArray(output.Items) ? output.Items : [];
    const bytes = items.reduce((n: number, item) => n + itemBytes(item), 0);
    return factor * Math.max(1, Math.ceil(bytes / (4 * KB)));
  }
  return 0;
}

export const emptyDynamoCounts = (): DynamoCounts => ({
  requests: {},
  itemsRead: 0,
  scans: 0,
  readUnits: 0,
  writeUnits: 0,
  writeUnitsByTarget: {},
  stored: { jobItemBytes: 0, otherItemBytes: 0, otherItems: 0 },
});

export const emptyS3Counts = (): S3Counts => ({ requests: {}, bytesUploaded: 0 });

/** One request as sent: which client, the command name (`GetItemCommand`...) and a copy of its input. */
export interface RecordedRequest {
  client: 'dynamo' | 's3';
  command: string;
  input: Record<string, unknown>;
  jobId: string | undefined;
}

export type RequestListener = (request: RecordedRequest) => void;

/** The job a request is about: the `JOB#{id}` key or item, or the job an upstream link points at. */
function jobIdOf(input: Item): string | undefined {
  const key = isRecord(input.Key) ? input.Key : isRecord(input.Item) ? input.Item : undefined;
  const pk = key?.pk;
  if (typeof pk === 'string' && pk.startsWith('JOB#')) return pk.slice(4);
  if (isRecord(input.Item) && typeof input.Item.jobId === 'string') return input.Item.jobId;
  // A batch of one job's audit events: the job of its first item.
  const batch = isRecord(input.RequestItems) ? Object.values(input.RequestItems)[0] : undefined;
  const first = Array.isArray(batch) && isRecord(batch[0]) ? batch[0].PutRequest : undefined;
  if (isRecord(first) && isRecord(first.Item) && typeof first.Item.jobId === 'string')
    return first.Item.jobId;
  const values = isRecord(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
  const queried = values[':pk'];
  return typeof queried === 'string' && queried.startsWith('JOB#') ? queried.slice(4) : undefined;
}

function addDynamo(c: DynamoCounts, command: string, input: Item, output: Item): void {
  c.requests[command] = (c.requests[command] ?? 0) + 1;
  if (command === 'ScanCommand') c.scans++;
  if (typeof output.ScannedCount === 'number') c.itemsRead += output.ScannedCount;
  else if (command === 'GetItemCommand' && isRecord(output.Item)) c.itemsRead += 1;
  c.readUnits += readUnits(command, input, output);
  const written =
    command === 'PutItemCommand'
      ? input.Item
      : command === 'UpdateItemCommand'
        ? output.Attributes
        : undefined;
  if (isRecord(written)) {
    if (written.sk === 'JOB') c.stored.jobItemBytes = Math.max(c.stored.jobItemBytes, itemBytes(written));
    else if (command === 'PutItemCommand') {
      c.stored.otherItemBytes += itemBytes(written);
      c.stored.otherItems += 1;
    }
  }
  for (const [target, units] of Object.entries(writeUnits(command, input, output))) {
    if (!target.startsWith('ifAll:')) c.writeUnits += units;
    c.writeUnitsByTarget[target] = (c.writeUnitsByTarget[target] ?? 0) + units;
  }
}

/**
 * Counts every DynamoDB request a document client sends (the middleware sees unmarshalled input and output),
 * in total and per job (requests that name no job, like the sweeper's due queries, count as shared).
 */
export class DynamoCounter {
  counts = emptyDynamoCounts();
  readonly byJob = new Map<string, DynamoCounts>();
  /** Sees every request as it is sent (a copy of its input), e.g. to record a capture for replay. */
  listener: RequestListener | undefined;

  attach(client: DynamoDBDocumentClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        const input = toItem(args.input);
        this.listener?.({ client: 'dynamo', command, input: structuredClone(input), jobId: jobIdOf(input) });
        const result = await next(args);
        const output = toItem(result.output);
        addDynamo(this.counts, command, input, output);
        const jobId = jobIdOf(input);
        if (jobId !== undefined) {
          let perJob = this.byJob.get(jobId);
          if (!perJob) {
            perJob = emptyDynamoCounts();
            this.byJob.set(jobId, perJob);
          }
          addDynamo(perJob, command, input, output);
        }
        return result;
      },
      { step: 'initialize', name: 'benchDynamoCounter' },
    );
    return this;
  }

  /** Counts since the last take (totals and per job), and resets. */
  take(): DynamoCounts {
    const counts = this.counts;
    this.counts = emptyDynamoCounts();
    this.byJob.clear();
    return counts;
  }
}

const S3_JOB_KEY = /jobs\/\d{4}\/\d{2}\/\d{2}\/([0-9A-HJKMNP-TV-Z]{26})\//;

/** Counts every S3 request and the bytes sent as object bodies and parts, in total and per job. */
export class S3Counter {
  counts = emptyS3Counts();
  readonly byJob = new Map<string, S3Counts>();
  listener: RequestListener | undefined;

  attach(client: S3Client): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = toItem(args.input);
        const command = context.commandName ?? 'unknown';
        const keyJob = typeof input.Key === 'string' ? S3_JOB_KEY.exec(input.Key)?.[1] : undefined;
        this.listener?.({ client: 's3', command, input: structuredClone(input), jobId: keyJob });
        const result = await next(args);
        const bytes =
          typeof input.ContentLength === 'number'
            ? input.ContentLength
            : input.Body instanceof Uint8Array
              ? input.Body.length
              : 0;
        const jobId = keyJob;
        const targets = [this.counts];
        if (jobId !== undefined) {
          let perJob = this.byJob.get(jobId);
          if (!perJob) {
            perJob = emptyS3Counts();
            this.byJob.set(jobId, perJob);
          }
          targets.push(perJob);
        }
        for (const c of targets) {
          c.requests[command] = (c.requests[command] ?? 0) + 1;
          c.bytesUploaded += bytes;
        }
        return result;
      },
      { step: 'initialize', name: 'benchS3Counter' },
    );
    return this;
  }

  take(): S3Counts {
    const counts = this.counts;
    this.counts = emptyS3Counts();
    this.byJob.clear();
    return counts;
  }
}

function toItem(value: unknown): Item {
  return isRecord(value) ? value : {};
}

/** Total requests of a count. */
export const requestTotal = (requests: Record<string, number>): number =>
  Object.values(requests).reduce((n, v) => n + v, 0);

/** Sum of several counts (per-job counts of one scenario, for example). */
export function sumDynamo(parts: Iterable<DynamoCounts>): DynamoCounts {
  const total = emptyDynamoCounts();
  for (const c of parts) {
    for (const [k, v] of Object.entries(c.requests)) total.requests[k] = (total.requests[k] ?? 0) + v;
    total.itemsRead += c.itemsRead;
    total.scans += c.scans;
    total.readUnits += c.readUnits;
    total.writeUnits += c.writeUnits;
    for (const [k, v] of Object.entries(c.writeUnitsByTarget)) {
      total.writeUnitsByTarget[k] = (total.writeUnitsByTarget[k] ?? 0) + v;
    }
    total.stored.jobItemBytes += c.stored.jobItemBytes;
    total.stored.otherItemBytes += c.stored.otherItemBytes;
    total.stored.otherItems += c.stored.otherItems;
  }
  return total;
}

export function sumS3(parts: Iterable<S3Counts>): S3Counts {
  const total = emptyS3Counts();
  for (const c of parts) {
    for (const [k, v] of Object.entries(c.requests)) total.requests[k] = (total.requests[k] ?? 0) + v;
    total.bytesUploaded += c.bytesUploaded;
  }
  return total;
}
