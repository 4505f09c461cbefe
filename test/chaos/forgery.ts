// Forged webhooks, as someone who learned callback URLs (or guessed at them) would post them.
import { randomBytes } from 'node:crypto';
import { signWebhookToken } from '../../functions/core/webhook-token.ts';
import type { Emulator } from '../../local/emulator/index.ts';
import type { RequestRecord } from './client.ts';
import { send } from './http.ts';
import { Dice, sleep } from './rng.ts';
import type { UpstreamLedger } from './upstream-ledger.ts';

export const FORGERY_KINDS = ['wrong-token', 'other-jobs-token', 'truncated-token', 'foreign-body'] as const;
export type ForgeryKind = (typeof FORGERY_KINDS)[number];

/** `foreign-body` carries the job's own valid token (a leaked URL) and another job's final status as body. */
export interface Forgery {
  kind: ForgeryKind;
  targetJobId: string;
  /** The job whose token (other-jobs-token) or status (foreign-body) was used. */
  otherJobId: string;
  status: number;
}

export class Forger {
  readonly sent: Forgery[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
  ) {}

  private tokenFor(kind: ForgeryKind, targetJobId: string, otherJobId: string): string {
    switch (kind) {
      case 'wrong-token':
        return randomBytes(32).toString('base64url');
      case 'other-jobs-token':
        return signWebhookToken(this.secret, otherJobId);
      case 'truncated-token':
        return signWebhookToken(this.secret, targetJobId).slice(0, 30);
      case 'foreign-body':
        return signWebhookToken(this.secret, targetJobId);
    }
  }

  /**
   * Posts one forged webhook for `targetJobId`. `foreignStatus` is the other job's final status object as
   * the upstream serves it: a body that is real, final and not this job's.
   */
  async forge(
    kind: ForgeryKind,
    targetJobId: string,
    otherJobId: string,
    foreignStatus: string,
  ): Promise<Forgery> {
    const token = this.tokenFor(kind, targetJobId, otherJobId);
    const answer = await send(this.baseUrl, 'POST', `/webhooks/${targetJobId}/${token}`, foreignStatus);
    const forgery = { kind, targetJobId, otherJobId, status: answer.status };
    this.sent.push(forgery);
    return forgery;
  }
}

export interface ForgeryFigures {
  sent: Record<string, number>;
  rejected: number;
  bodiesIgnored: number;
  /** Posted while the archiver was down: refused before anything read them. */
  unanswered: number;
  other: number;
}

/** A finished workload job's genuine webhook body: the forger replays it to another job's callback. */
export function foreignBody(
  forgeable: readonly RequestRecord[],
  ledger: UpstreamLedger,
  emulator: Emulator,
  dice: Dice,
): { jobId: string; body: string } | undefined {
  for (let tries = 0; tries < 20 && forgeable.length > 0; tries++) {
    const record = dice.pick(forgeable);
    const jobId = record.jobIds.at(-1);
    const upstreamId = ledger.idsFor(record.spec.key)[0];
    const snap = upstreamId ? emulator.jobs.get(upstreamId) : undefined;
    if (!jobId || !snap || !['COMPLETED', 'FAILED'].includes(snap.status)) continue;
    const fields: Record<string, unknown> = {
      ...snap.statusObject,
      input: snap.input,
      webhook: snap.webhook,
    };
    const sorted = Object.fromEntries(
      Object.keys(fields)
        .sort()
        .map((k) => [k, fields[k]]),
    );
    return { jobId, body: JSON.stringify(sorted) };
  }
  return undefined;
}

/** One forged webhook every 50 ms while the workload runs, cycling through the kinds. */
export async function forgeContinuously(
  forger: Forger,
  forgeable: readonly RequestRecord[],
  ledger: UpstreamLedger,
  emulator: Emulator,
  seed: number,
  until: Promise<unknown>,
): Promise<void> {
  let finished = false;
  void until.finally(() => {
    finished = true;
  });
  const dice = new Dice(seed, 'forgery');
  for (let n = 0; !finished; n++) {
    await sleep(50);
    const target = forgeable.length > 0 ? dice.pick(forgeable).jobIds.at(-1) : undefined;
    const foreign = foreignBody(forgeable, ledger, emulator, dice);
    const kind = FORGERY_KINDS[n % FORGERY_KINDS.length];
    if (!target || !foreign || !kind || foreign.jobId === target) continue;
    await forger.forge(kind, target, foreign.jobId, foreign.body);
  }
}

export function forgeryFigures(sent: readonly Forgery[]): ForgeryFigures {
  const byKind: Record<string, number> = {};
  let rejected = 0;
  let bodiesIgnored = 0;
  let unanswered = 0;
  let other = 0;
  for (const f of sent) {
    byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    if (f.status === 401) rejected++;
    else if (f.status === 0) unanswered++;
    else if (f.kind === 'foreign-body') bodiesIgnored++;
    else other++;
  }
  return { sent: byKind, rejected, bodiesIgnored, unanswered, other };
}
