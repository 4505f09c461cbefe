// EventPublisher implementations: EventBridge in AWS; a log line (and optional forward URL) locally.
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Job } from '../core/job.ts';
import type { EventPublisher, JobEventType, Logger } from '../core/ports.ts';

export const EVENT_SOURCE = 'submodel-archiver';
export const EVENT_DETAIL_VERSION = '1';

/** The documented, versioned detail of every job event. */
export function eventDetail(job: Job) {
  return {
    version: EVENT_DETAIL_VERSION,
    jobId: job.jobId,
    endpoint: job.endpoint,
    state: job.state,
    upstreamId: job.upstreamId ?? null,
    upstreamStatus: job.upstreamStatus ?? null,
    captureSource: job.captureSource ?? null,
    // Added within version 1 (a version only ever gains fields): how the result is known, and its verification.
    provenance: job.provenance ?? null,
    verification: job.verification ?? null,
    evidenceKey: job.evidenceKey ?? null,
    createdAt: job.createdAt,
    archivedAt: job.archivedAt ?? null,
    reason: job.reason ?? null,
    inputKey: job.inputKey ?? null,
    resultKey: job.resultKey ?? null,
    resultBytes: job.resultBytes ?? null,
    artifacts: (job.artifacts ?? []).map((a) => ({ key: a.key, contentType: a.contentType, bytes: a.bytes })),
    metadata: job.metadata ?? {},
  };
}

export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(type: JobEventType, job: Job): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: type,
            Detail: JSON.stringify(eventDetail(job)),
          },
        ],
      }),
    );
    if (out.FailedEntryCount)
      throw new Error(`PutEvents failed: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
  }
}

/** Local mode: events are kept, handed to `onEvent` (printed by npm start), and POSTed to `forwardUrl` when set. */
export class LocalEventPublisher implements EventPublisher {
  readonly published: Array<{ type: JobEventType; detail: ReturnType<typeof eventDetail> }> = [];

  constructor(
    private readonly logger: Logger,
    private readonly forwardUrl?: string,
    private readonly onEvent?: (type: JobEventType, detail: ReturnType<typeof eventDetail>) => void,
  ) {}

  async publish(type: JobEventType, job: Job): Promise<void> {
    const detail = eventDetail(job);
    this.published.push({ type, detail });
    this.onEvent?.(type, detail);
    this.logger.info('event', { type, jobId: job.jobId });
    if (this.forwardUrl) {
      const event = { source: EVENT_SOURCE, 'detail-type': type, time: new Date().toISOString(), detail };
      const res = await fetch(this.forwardUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`event forward answered ${res.status}`);
    }
  }
}
