// Small node:http helpers: bounded body reading and answers that are counted in the stats.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bump, type EmulatorStats } from './stats.ts';

export interface Reply {
  status: number;
  body: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** What the request log records about it (a /run's new job id), even when a fault loses the answer. */
  log?: { jobId: string; webhookJobId?: string };
}

export const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value) });

/** Pre-serialised JSON (status objects are served byte for byte as produced). */
export const rawJson = (status: number, body: string): Reply => ({ status, body });

export const errorReply = (status: number, message: string): Reply => json(status, { error: message });

/**
 * Reads the whole body, or reports it too large. An oversized body is still drained (not kept), because
 * answering before the client finished uploading makes many clients see a reset instead of the 413.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const parts: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const part of req) {
    const chunk = part as Buffer;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      parts.length = 0;
    }
    if (!tooLarge) parts.push(chunk);
  }
  return tooLarge ? 'too-large' : Buffer.concat(parts);
}

export function send(res: ServerResponse, reply: Reply, stats: EmulatorStats, headOnly = false): void {
  bump(stats.responses, String(reply.status));
  if (reply.status === 429) stats.tooManyRequests++;
  if (res.destroyed || res.writableEnded) return; // the client left (e.g. during a long poll)
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  res.writeHead(reply.status, {
    'content-type': reply.contentType ?? 'application/json',
    'content-length': String(body.length),
    ...reply.headers,
  });
  res.end(headOnly ? undefined : body);
}
