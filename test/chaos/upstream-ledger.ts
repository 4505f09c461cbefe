// Every GPU job the chaos clients cause upstream, by the request key its input carries (an emulator handler).
import { BUILTIN_HANDLERS, type JobHandler, type JobSnapshot } from '../../local/emulator/index.ts';

/** The emulator handler name chaos inputs use; `input.delegate` names the built-in handler that does the work. */
export const CHAOS_HANDLER = 'chaos';

/**
 * Longest the scenario waits for a job it caused to start or finish upstream. Milliseconds on a quiet machine;
 * a loaded one took more than 20 s (the old bound, which ended a slowed run). A run still waiting after this is
 * broken, not slow.
 */
export const UPSTREAM_WAIT_MS = 15 * 60_000;

export class UpstreamLedger {
  /** Upstream job id → request key. */
  readonly keyOf = new Map<string, string>();
  /** Request key → upstream job ids, in start order. */
  readonly idsOf = new Map<string, string[]>();

  /** Records the job the moment a worker picks it up, then runs the delegate handler. */
  readonly handler: JobHandler = async (ctx) => {
    const key = typeof ctx.input.chaosKey === 'string' ? ctx.input.chaosKey : undefined;
    if (key && !this.keyOf.has(ctx.jobId)) {
      this.keyOf.set(ctx.jobId, key);
      const ids = this.idsOf.get(key) ?? [];
      ids.push(ctx.jobId);
      this.idsOf.set(key, ids);
    }
    const name = typeof ctx.input.delegate === 'string' ? ctx.input.delegate : 'echo';
    const delegate = BUILTIN_HANDLERS[name];
    if (!delegate) throw new Error(`unknown delegate handler ${name}`);
    return delegate(ctx);
  };

  idsFor(key: string): string[] {
    return this.idsOf.get(key) ?? [];
  }

  /** Resolves with the upstream id of a request once its job started upstream. */
  async awaitStarted(key: string, timeoutMs = UPSTREAM_WAIT_MS): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const id = this.idsFor(key)[0];
      if (id) return id;
      if (Date.now() > until) throw new Error(`request ${key} never started upstream`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The archiver job id in an upstream job's callback URL (`.../webhooks/{jobId}/{token}`), if it has one. */
export function callbackJobId(snapshot: JobSnapshot | undefined): string | undefined {
  const match = /\/webhooks\/([^/]+)\/[^/]+$/.exec(snapshot?.webhook ?? '');
  return match?.[1];
}
