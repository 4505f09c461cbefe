// The upstream operations themselves, each turning a parsed request into a reply with the documented semantics.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Engine } from './engine.ts';
import { errorReply, json, type Reply, rawJson, readBody } from './http.ts';
import { isFinal, statusJson } from './jobs.ts';
import type { Settings } from './options.ts';
import type { EmulatorStats } from './stats.ts';

export const OPERATIONS = [
  'run',
  'runsync',
  'status',
  'status-sync',
  'stream',
  'cancel',
  'retry',
  'purge-queue',
  'health',
  'requests',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Operations addressed at one job: `/{operation}/{jobId}`. */
export const JOB_OPERATIONS: readonly Operation[] = ['status', 'status-sync', 'stream', 'cancel', 'retry'];

export interface OperationRequest {
  endpointId: string;
  operation: Operation;
  jobId: string | undefined;
  req: IncomingMessage;
  query: URLSearchParams;
  /** Aborts when the client goes away, so long polls stop waiting for nobody. */
  clientGone: AbortSignal;
}

export interface OperationDeps {
  engine: Engine;
  settings: Settings;
  stats: EmulatorStats;
  requestLog: (endpointId: string) => unknown[];
}

const positive = z.number().finite().positive();

/** `/run` and `/runsync` bodies. Unknown fields (s3Config...) are accepted and ignored, as upstream. */
const runBodySchema = z.looseObject({
  input: z.record(z.string(), z.unknown(), { error: 'input is required and must be a JSON object' }),
  webhook: z.string().nullish(),
  policy: z
    .looseObject({
      executionTimeout: positive.optional(),
      ttl: positive.optional(),
      lowPriority: z.boolean().optional(),
    })
    .nullish(),
});

const NOT_FOUND = () => errorReply(404, 'request does not exist');

/** `?wait=` in ms, clamped to the documented 1 s .. 5 min (configurable) bounds. */
function waitMs(query: URLSearchParams, fallback: number, settings: Settings): number {
  const raw = query.get('wait');
  const asked = raw === null || raw.trim() === '' ? Number.NaN : Number(raw);
  const wait = Number.isFinite(asked) ? asked : fallback;
  return Math.min(settings.syncWaitMaxMs, Math.max(settings.syncWaitMinMs, wait));
}

async function submit(deps: OperationDeps, request: OperationRequest, sync: boolean): Promise<Reply> {
  const { engine, settings, stats } = deps;
  const raw = await readBody(request.req, sync ? settings.maxRunsyncBodyBytes : settings.maxRunBodyBytes);
  if (raw === 'too-large') return errorReply(413, 'request body too large');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return errorReply(400, 'request body is not valid JSON');
  }
  const parsed = runBodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return errorReply(400, `${where}${issue?.message ?? 'invalid request'}`);
  }
  if (engine.queueFull(request.endpointId)) {
    stats.queueFull++;
    return errorReply(429, 'queue is full');
  }
  const { input, webhook, policy } = parsed.data;
  const job = engine.submit(
    request.endpointId,
    { input, webhook: webhook || undefined, policy: policy ?? undefined },
    sync,
  );
  const log = { jobId: job.id, ...webhookJobIdOf(webhook) };
  if (!sync) return { ...json(200, { id: job.id, status: 'IN_QUEUE' }), log };
  await engine.waitFinal(
    job,
    waitMs(request.query, settings.runsyncDefaultWaitMs, settings),
    request.clientGone,
  );
  const reply = isFinal(job.status)
    ? rawJson(200, statusJson(job))
    : json(200, { id: job.id, status: job.status });
  return { ...reply, log };
}

/**
 * The archiver's job id from a callback URL `.../webhooks/{jobId}/{token}`, so the request log can say which
 * upstream job belongs to which archiver job (the reconcile procedure). The token is never logged.
 */
function webhookJobIdOf(webhook: string | null | undefined): { webhookJobId?: string } {
  if (!webhook) return {};
  try {
    const id = /\/webhooks\/([^/]+)\/[^/]+\/?$/.exec(new URL(webhook).pathname)?.[1];
    return id ? { webhookJobId: decodeURIComponent(id) } : {};
  } catch {
    return {};
  }
}

export async function perform(deps: OperationDeps, request: OperationRequest): Promise<Reply> {
  const { engine, settings } = deps;
  const { endpointId, operation } = request;
  switch (operation) {
    case 'run':
      return submit(deps, request, false);
    case 'runsync':
      return submit(deps, request, true);
    case 'purge-queue':
      return json(200, { removed: engine.purgeQueue(endpointId), status: 'completed' });
    case 'health':
      return json(200, engine.health(endpointId));
    case 'requests':
      return json(200, { requests: deps.requestLog(endpointId) });
  }
  const job = request.jobId === undefined ? undefined : engine.find(endpointId, request.jobId);
  if (!job) return NOT_FOUND();
  switch (operation) {
    case 'status': {
      const ttl = Number(request.query.get('ttl') ?? Number.NaN);
      if (Number.isFinite(ttl) && ttl > 0) engine.shortenTtl(job, ttl);
      return rawJson(200, statusJson(job));
    }
    case 'status-sync':
      await engine.waitFinal(
        job,
        waitMs(request.query, settings.statusSyncDefaultWaitMs, settings),
        request.clientGone,
      );
      return engine.isLive(job) ? rawJson(200, statusJson(job)) : NOT_FOUND();
    case 'stream':
      return json(200, engine.readStream(job));
    case 'cancel':
      engine.cancel(job);
      return json(200, { id: job.id, status: job.status });
    case 'retry':
      if (!engine.retry(job)) {
        return errorReply(
          400,
          `job ${job.id} is ${job.status}: only FAILED or TIMED_OUT jobs can be retried`,
        );
      }
      return json(200, { id: job.id, status: 'IN_QUEUE' });
  }
}
