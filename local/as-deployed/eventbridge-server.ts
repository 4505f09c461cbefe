// Local EventBridge over its real JSON 1.1 protocol: PutEvents onto the stack's buses, kept in memory to look at.
import { randomUUID } from 'node:crypto';
import { type AwsJsonServer, AwsServiceError, startAwsJsonServer } from './aws-json-server.ts';

export interface PutEvent {
  eventBusName: string;
  source: string;
  detailType: string;
  detail: unknown;
  time: string;
}

export interface EventBridgeServer extends AwsJsonServer {
  /** Every event accepted, in order. */
  readonly events: PutEvent[];
}

/** PutEvents quotas: 10 entries a call, 256 KB an entry. */
const MAX_ENTRIES = 10;
const MAX_ENTRY_BYTES = 256 * 1024;

export async function startEventBridgeServer(options: {
  buses: string[];
  region: string;
  accountId: string;
  onEvent?: (event: PutEvent) => void;
}): Promise<EventBridgeServer> {
  const events: PutEvent[] = [];
  const busName = (nameOrArn: string) => nameOrArn.replace(/^arn:aws:events:[^:]*:\d{12}:event-bus\//, '');
  const buses = new Set(['default', ...options.buses]);
  const server = await startAwsJsonServer('AWSEvents', {
    PutEvents: (input) => {
      const entries = (input.Entries ?? []) as Record<string, unknown>[];
      if (entries.length === 0 || entries.length > MAX_ENTRIES)
        throw new AwsServiceError('ValidationException', `Entries: 1 to ${MAX_ENTRIES} items`);
      const results = entries.map((entry) => {
        const bus = busName(String(entry.EventBusName ?? 'default'));
        if (!buses.has(bus))
          return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
        if (
          typeof entry.Source !== 'string' ||
          typeof entry.DetailType !== 'string' ||
          typeof entry.Detail !== 'string'
        )
          return {
            ErrorCode: 'InvalidArgument',
            ErrorMessage: 'Source, DetailType and Detail are required.',
          };
        if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES)
          return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Entry size exceeds 256 KB.' };
        let detail: unknown;
        try {
          detail = JSON.parse(entry.Detail);
        } catch {
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
        }
        const event = {
          eventBusName: bus,
          source: entry.Source,
          detailType: entry.DetailType,
          detail,
          time: new Date().toISOString(),
        };
        events.push(event);
        options.onEvent?.(event);
        return { EventId: randomUUID() };
      });
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    },
  });
  return { ...server, events };
}
