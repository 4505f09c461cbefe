// The jobs table's keys and indexes, shared by the repository, the CDK storage construct and local mode.

/** Partition and sort key attribute names of the base table. */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/**
 * Global secondary indexes. `due` projects ALL (the sweeper reads whole jobs from it). The listing indexes
 * are KEYS_ONLY: their keys are written once, when the job is created, and no later write to the job changes
 * them, so each costs one write per job whatever the job's life (an ALL copy was rewritten on every change);
 * a listing reads the jobs themselves with BatchGetItem.
 */
export const TABLE_INDEXES = {
  /** Sparse: only jobs still being watched carry dueShard/dueAt; the sweeper queries it oldest-first. */
  due: { name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt', sortKeyType: 'N', projection: 'ALL' },
  /** Listing by creation time: LIST_SHARDS partitions per UTC day (`{day}#{nn}`), sorted by ULID job id. */
  byDay: {
    name: 'byDay',
    partitionKey: 'dayShard',
    sortKey: 'jobId',
    sortKeyType: 'S',
    projection: 'KEYS_ONLY',
  },
  /** Listing by creation time within one endpoint (`{endpoint}#{day}#{nn}`). */
  byEndpointDay: {
    name: 'byEndpointDay',
    partitionKey: 'endpointDayShard',
    sortKey: 'jobId',
    sortKeyType: 'S',
    projection: 'KEYS_ONLY',
  },
} as const;

/**
 * Partitions per day of each listing index, by a hash of the job id. A partition takes 1,000 write units a
 * second; at 1,000 jobs/s one key per day would take all of it, 16 keys take 62.5 each (a sixteenth, under
 * the tenth aimed for even with the hash's unevenness). Part of the stored layout: changing it re-keys every job.
 */
export const LIST_SHARDS = 16;

/**
 * Partitions of the `due` index. Each job writes about 8 units to it (four schedule moves, each a delete and a
 * put), so 16 keys take 2,000 jobs/s, twice the 1,000 aimed for; they also cap the sweep groups (each group
 * sweeps its own shards). Part of the stored layout: lowering it strands the due jobs of the dropped shards.
 */
export const DUE_SHARDS = 16;

/** Attribute that DynamoDB TTL removes (idempotency records only; jobs and audit events are kept). */
export const TTL_ATTRIBUTE = 'expiresAt';

type AttrType = 'S' | 'N';

/** CreateTable input for local stores and tests (on-demand, every index, the projections above). */
export function createTableInput(tableName: string) {
  const attrs = new Map<string, AttrType>([
    [TABLE_KEYS.partitionKey, 'S'],
    [TABLE_KEYS.sortKey, 'S'],
  ]);
  for (const index of Object.values(TABLE_INDEXES)) {
    attrs.set(index.partitionKey, 'S');
    attrs.set(index.sortKey, index.sortKeyType);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: Object.values(TABLE_INDEXES).map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: index.projection },
    })),
  };
}
