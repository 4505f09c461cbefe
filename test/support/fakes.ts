// Small in-memory stand-ins for the archive, events, metrics, logger, clock and upstream in service tests.
import { parseConfig } from '../../functions/config.ts';
import { UpstreamNotFoundError } from '../../functions/core/errors.ts';
import type { Job } from '../../functions/core/job.ts';
import type {
  ArchiveStore,
  Clock,
  EventPublisher,
  JobEventType,
  Logger,
  MetricName,
  Metrics,
  StoredObject,
} from '../../functions/core/ports.ts';
import type { ServiceDeps } from '../../functions/core/services.ts';
import type { FetchedStatus, UpstreamClient } from '../../functions/core/upstream-port.ts';
import type { RunRequest, UpstreamStatus } from '../../functions/schemas/upstream.ts';
import { InMemoryJobRepository } from './in-memory-job-repository.ts';

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef0123';

export class MemoryArchive implements ArchiveStore {
  readonly objects = new Map<
    string,
    { body: Buffer; contentType: string; metadata?: Record<string, string> }
  >();
  puts = 0;

  async putJson(
    key: string,
    body: Uint8Array | readonly Uint8Array[],
    metadata?: Record<string, string>,
  ): Promise<StoredObject> {
    const bytes = Buffer.concat(body instanceof Uint8Array ? [body] : [...body]);
    this.puts++;
    this.objects.set(key, { body: bytes, contentType: 'application/json', ...(metadata && { metadata }) });
    return { key, bytes: bytes.length };
  }

  async putBinary(
    key: string,
    body: Uint8Array | readonly Uint8Array[],
    contentType: string,
  ): Promise<StoredObject> {
    const bytes = Buffer.concat(body instanceof Uint8Array ? [body] : [...body]);
    this.puts++;
    this.objects.set(key, { body: bytes, contentType });
    return { key, bytes: bytes.length };
  }

  async readJson(key: string): Promise<unknown> {
    return this.objects.has(key) ? this.json(key) : undefined;
  }

  async presignGet(key: string, ttlSeconds: number): Promise<string> {
    return `https://archive.example/${key}?ttl=${ttlSeconds}`;
  }

  json(key: string): unknown {
    const object = this.objects.get(key);
    if (!object) throw new Error(`no object ${key}`);
    return JSON.parse(object.body.toString('utf8'));
  }
}

export class RecordingEvents implements EventPublisher {
  readonly published: Array<{ type: JobEventType; job: Job }> = [];
  async publish(type: JobEventType, job: Job): Promise<void> {
    this.published.push({ type, job });
  }
}

export class RecordingMetrics implements Metrics {
  readonly counts = new Map<MetricName, number>();
  count(name: MetricName, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
  gauge(name: MetricName, value: number): void {
    this.counts.set(name, value);
  }
  get(name: MetricName): number {
    return this.counts.get(name) ?? 0;
  }
}

export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  debug = (message: string, fields?: Record<string, unknown>) =>
    this.lines.push({ level: 'debug', message, ...(fields && { fields }) });
  info = (message: string, fields?: Record<string, unknown>) =>
    this.lines.push({ level: 'info', message, ...(fields && { fields }) });
  warn = (message: string, fields?: Record<string, unknown>) =>
    this.lines.push({ level: 'warn', message, ...(fields && { fields }) });
  error = (message: string, fields?: Record<string, unknown>) =>
    this.lines.push({ level: 'error', message, ...(fields && { fields }) });
}

export class ManualClock implements Clock {
  constructor(public ms = Date.parse('2026-11-29T12:00:00.000Z')) {}
  now = () => this.ms;
  advance(ms: number) {
    this.ms += ms;
  }
}

type Handler<A extends unknown[], R> = (...args: A) => Promise<R>;

/** An upstream whose answers each test scripts; unscripted calls fail loudly. */
export class ScriptedUpstream implements UpstreamClient {
  readonly calls: Array<{ op: string; args: unknown[] }> = [];
  /** Upstream status objects by upstream id; `status()` answers from here, 404 when absent. */
  readonly statuses = new Map<string, UpstreamStatus>();
  runImpl: Handler<[string, RunRequest], { id: string; status: string }> = async () => ({
    id: 'up-1',
    status: 'IN_QUEUE',
  });
  runSyncImpl: Handler<[string, RunRequest], FetchedStatus> = async () => {
    throw new Error('runSync not scripted');
  };
  statusImpl?: Handler<[string, string], FetchedStatus>;

  async run(endpoint: string, request: RunRequest) {
    this.calls.push({ op: 'run', args: [endpoint, request] });
    return this.runImpl(endpoint, request);
  }
  async runSync(endpoint: string, request: RunRequest) {
    this.calls.push({ op: 'runSync', args: [endpoint, request] });
    return this.runSyncImpl(endpoint, request);
  }
  async status(endpoint: string, upstreamId: string): Promise<FetchedStatus> {
    this.calls.push({ op: 'status', args: [endpoint, upstreamId] });
    if (this.statusImpl) return this.statusImpl(endpoint, upstreamId);
    const status = this.statuses.get(upstreamId);
    if (!status) throw new UpstreamNotFoundError('status', upstreamId);
    return { status, raw: Buffer.from(JSON.stringify(status)) };
  }
  async statusSync(endpoint: string, upstreamId: string) {
    return this.status(endpoint, upstreamId);
  }
  async stream(): Promise<never> {
    throw new Error('stream not scripted');
  }
  async cancel(endpoint: string, upstreamId: string) {
    this.calls.push({ op: 'cancel', args: [endpoint, upstreamId] });
    const current = this.statuses.get(upstreamId);
    if (!current) throw new UpstreamNotFoundError('cancel', upstreamId);
    this.statuses.set(upstreamId, { ...current, status: 'CANCELLED' });
    return { id: upstreamId, status: 'CANCELLED' };
  }
  async retry(): Promise<never> {
    throw new Error('retry not scripted');
  }
  async purgeQueue(): Promise<never> {
    throw new Error('purgeQueue not scripted');
  }
  async health(): Promise<never> {
    throw new Error('health not scripted');
  }
  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }
}

export const TEST_ENV = {
  UPSTREAM_ENDPOINTS: JSON.stringify({
    default: 'https://api.runpod.ai/v2/abc123',
    sdxl: 'https://api.submodel.ai/api/v1/sl/inst9',
  }),
  UPSTREAM_API_KEYS: JSON.stringify({ default: 'rp_test_key', sdxl: 'sm_test_key' }),
  PUBLIC_BASE_URL: 'https://archiver.example.com/',
  WEBHOOK_SECRET,
  JOBS_TABLE: 'jobs-test',
  ARCHIVE_BUCKET: 'archive-test',
  DUE_SHARDS: '4',
};

export type TestDeps = ServiceDeps & {
  jobs: InMemoryJobRepository;
  archive: MemoryArchive;
  upstream: ScriptedUpstream;
  events: RecordingEvents;
  metrics: RecordingMetrics;
  logger: RecordingLogger;
  clock: ManualClock;
};

export function testDeps(env: Record<string, string> = {}): TestDeps {
  return {
    config: parseConfig({ ...TEST_ENV, ...env }),
    jobs: new InMemoryJobRepository(4),
    archive: new MemoryArchive(),
    upstream: new ScriptedUpstream(),
    events: new RecordingEvents(),
    metrics: new RecordingMetrics(),
    logger: new RecordingLogger(),
    clock: new ManualClock(),
    webhookSecret: async () => WEBHOOK_SECRET,
  };
}
