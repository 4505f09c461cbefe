// HTTP front: routes both URL styles, checks the bearer key, applies rate limits and request faults, then answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FaultInjector, type FaultOptions, faultOptionsSchema, type OperationClass } from './faults.ts';
import { fileReply } from './files.ts';
import { errorReply, json, type Reply, readBody, send } from './http.ts';
import { JOB_OPERATIONS, OPERATIONS, type Operation, type OperationDeps, perform } from './operations.ts';
import { WindowLimiter } from './rate-limit.ts';
import { bump } from './stats.ts';

export interface ServerDeps extends OperationDeps {
  faults: () => FaultInjector;
  getFaults: () => FaultOptions;
  setFaults: (faults: FaultOptions) => void;
}

export interface ApiRoute {
  style: 'v2' | 'sl';
  endpointId: string;
  operation: Operation;
  jobId: string | undefined;
}

const CLASS_OF: Readonly<Record<Operation, OperationClass>> = {
  run: 'run',
  runsync: 'runsync',
  status: 'status',
  'status-sync': 'status',
  stream: 'status',
  cancel: 'cancel',
  retry: 'retry',
  'purge-queue': 'purge',
  health: 'health',
  requests: 'requests',
};

const METHODS: Readonly<Record<Operation, readonly string[]>> = {
  run: ['POST'],
  runsync: ['POST'],
  status: ['GET', 'POST'],
  'status-sync': ['GET', 'POST'],
  stream: ['GET', 'POST'],
  cancel: ['POST'],
  retry: ['POST'],
  'purge-queue': ['POST'],
  health: ['GET'],
  requests: ['GET'],
};

/** `/v2/{endpointId}/{op}[/{jobId}]` or `/api/v1/sl/{instId}/{op}[/{jobId}]`; `_requests` is an alias. */
export function parseApiPath(pathname: string): ApiRoute | undefined {
  let segments: string[];
  try {
    segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  let style: 'v2' | 'sl';
  let rest: string[];
  if (segments[0] === 'v2') {
    style = 'v2';
    rest = segments.slice(1);
  } else if (segments[0] === 'api' && segments[1] === 'v1' && segments[2] === 'sl') {
    style = 'sl';
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  const [endpointId, rawOperation, jobId, ...extra] = rest;
  const name = rawOperation === '_requests' ? 'requests' : rawOperation;
  const operation = OPERATIONS.find((op) => op === name);
  if (!endpointId || !operation || extra.length > 0) return undefined;
  const needsJob = JOB_OPERATIONS.includes(operation);
  if (needsJob !== (jobId !== undefined)) return undefined;
  return { style, endpointId, operation, jobId };
}

const PROXY_REASONS: Readonly<Record<number, string>> = {
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** A 5xx as the real edge sends it: 502/503/504 come from the proxy as HTML, others as JSON. */
function faultReply(status: number): Reply {
  const reason = PROXY_REASONS[status];
  if (reason !== undefined) {
    const title = `${status} ${reason}`;
    return {
      status,
      contentType: 'text/html',
      body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`,
    };
  }
  return errorReply(status, 'internal server error');
}

export function createRequestHandler(deps: ServerDeps, requestLog: RequestLog) {
  const { settings, stats } = deps;
  const limiters = new Map<string, WindowLimiter>();
  const limiterFor = (endpointId: string, cls: OperationClass) => {
    const key = `${endpointId}\u0000${cls}`;
    let limiter = limiters.get(key);
    if (!limiter) {
      const limit = settings.rateLimits[cls];
      limiter = new WindowLimiter(limit.limit, limit.windowMs, limit.concurrent);
      limiters.set(key, limiter);
    }
    return limiter;
  };

  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization?.trim() ?? '';
    const bearer = /^bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (bearer !== undefined) return bearer === settings.apiKey;
    return settings.allowBareApiKey && header === settings.apiKey;
  };

  const api = async (req: IncomingMessage, res: ServerResponse, route: ApiRoute, query: URLSearchParams) => {
    const { endpointId, operation } = route;
    const cls = CLASS_OF[operation];
    const startedAt = Date.now();
    bump(stats.requests, operation);
    let logged: Reply['log'];
    res.on('finish', () =>
      requestLog.add(endpointId, {
        at: new Date(startedAt).toISOString(),
        method: req.method ?? 'GET',
        operation,
        jobId: route.jobId ?? logged?.jobId,
        ...(logged?.webhookJobId !== undefined && { webhookJobId: logged.webhookJobId }),
        httpStatus: res.statusCode,
        durationMs: Date.now() - startedAt,
      }),
    );
    const allowed = METHODS[operation];
    if (!allowed.includes(req.method ?? '')) {
      return send(
        res,
        { ...errorReply(405, 'method not allowed'), headers: { allow: allowed.join(', ') } },
        stats,
      );
    }
    if (!authorized(req)) {
      stats.unauthorized++;
      return send(res, errorReply(401, 'Unauthorized'), stats);
    }
    if (settings.rateLimitsEnabled) {
      const limiter = limiterFor(endpointId, cls);
      const verdict = limiter.tryAcquire(Date.now());
      if (verdict !== 'ok') {
        bump(stats.rateLimited, cls);
        return send(res, errorReply(429, `too many requests (${verdict} limit of ${cls})`), stats);
      }
      let released = false;
      res.on('close', () => {
        if (!released) limiter.release();
        released = true;
      });
    }
    const faults = deps.faults();
    const latency = faults.latencyMs(cls);
    if (latency > 0) {
      stats.delayedRequests++;
      await sleep(latency);
    }
    const early = faults.serverError(cls);
    if (early !== undefined) {
      stats.injectedErrors++;
      return send(res, faultReply(early), stats);
    }
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const reply = await perform(deps, { ...route, req, query, clientGone: gone.signal });
    logged = reply.log;
    const lost = faults.lostResponse(cls);
    if (lost !== undefined) {
      stats.injectedErrors++;
      return send(res, faultReply(lost), stats);
    }
    send(res, reply, stats);
  };

  /** Out-of-band control for a separately started emulator (benchmarks): stats, job inspection, faults. */
  const control = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/_emulator/stats' && req.method === 'GET') return send(res, json(200, stats), stats);
    const jobMatch = /^\/_emulator\/jobs\/([^/]+)$/.exec(path);
    if (jobMatch?.[1] && req.method === 'GET') {
      const snap = deps.engine.inspect(decodeURIComponent(jobMatch[1]));
      return send(res, snap ? json(200, snap) : errorReply(404, 'no such job'), stats);
    }
    if (path === '/_emulator/faults' && req.method === 'GET')
      return send(res, json(200, deps.getFaults()), stats);
    if (path === '/_emulator/faults' && (req.method === 'PUT' || req.method === 'POST')) {
      const raw = await readBody(req, 64 * 1024);
      let body: unknown;
      try {
        body = raw === 'too-large' ? undefined : JSON.parse(raw.toString('utf8'));
      } catch {
        body = undefined;
      }
      const parsed = faultOptionsSchema.safeParse(body);
      if (!parsed.success) return send(res, errorReply(400, parsed.error.message), stats);
      deps.setFaults(parsed.data);
      return send(res, json(200, deps.getFaults()), stats);
    }
    return send(res, errorReply(404, 'not found'), stats);
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const path = url.pathname;
    const work = (async () => {
      if (path.startsWith('/files/')) {
        bump(stats.requests, 'files');
        if (req.method !== 'GET' && req.method !== 'HEAD')
          return send(res, errorReply(405, 'method not allowed'), stats);
        return send(res, fileReply(path, url.searchParams), stats, req.method === 'HEAD');
      }
      if (path.startsWith('/_emulator/')) return control(req, res, path);
      const route = parseApiPath(path);
      if (!route) return send(res, errorReply(404, 'not found'), stats);
      return api(req, res, route, url.searchParams);
    })();
    work.catch((error: unknown) => {
      send(res, errorReply(500, error instanceof Error ? error.message : 'internal error'), stats);
    });
  };
}

export interface RequestLogEntry {
  at: string;
  method: string;
  operation: Operation;
  /** The job the request is about; for /run and /runsync the job it created (even if its answer was lost). */
  jobId: string | undefined;
  /** For /run and /runsync: the archiver job id from the webhook URL (the token is never logged). */
  webhookJobId?: string;
  httpStatus: number;
  durationMs: number;
}

/** The last N requests per endpoint, served by GET /requests. */
export class RequestLog {
  private readonly entries = new Map<string, RequestLogEntry[]>();

  constructor(private readonly size: number) {}

  add(endpointId: string, entry: RequestLogEntry): void {
    let list = this.entries.get(endpointId);
    if (!list) {
      list = [];
      this.entries.set(endpointId, list);
    }
    list.push(entry);
    if (list.length > this.size) list.splice(0, list.length - this.size);
  }

  recent(endpointId: string): RequestLogEntry[] {
    return [...(this.entries.get(endpointId) ?? [])].reverse();
  }
}
