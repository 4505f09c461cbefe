// The jobs table's keys and indexes, shared by the repository, the CDK storage construct and local mode.

/** Partition and sort key attribute names of the base table. */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Global secondary indexes. All project ALL: items are small (outputs live in S3), reads stay single-hop. */
export const TABLE_INDEXES = {
  /** Sparse: only jobs still being watched carry dueShard/dueAt; the sweeper queries it oldest-first. */
  due: { name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt', sortKeyType: 'N' },
  /** Listing by creation time: one partition per UTC day, sorted by ULID job id. */
  byDay: { name: 'byDay', partitionKey: 'day', sortKey: 'jobId', sortKeyType: 'S' },
  /** Listing by creation time within one endpoint. */
  byEndpointDay: { name: 'byEndpointDay', partitionKey: 'endpointDay', sortKey: 'jobId', sortKeyType: 'S' },
} as const;

/** Attribute that DynamoDB TTL removes (idempotency records only; jobs and audit events are kept). */
export const TTL_ATTRIBUTE = 'expiresAt';

type AttrType = 'S' | 'N';

/** CreateTable input for local stores and tests (on-demand, every index). */
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
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
