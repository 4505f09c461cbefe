// The archiver's clients in a chaos run: submit, track, cancel and reconcile, retrying as a careful client does.
import type { Emulator } from '../../local/emulator/index.ts';
import type { Gate } from './gate.ts';
import { type Answer, errorCode, jobOf, retryAfterMs, send, type Verdict, verdictOf } from './http.ts';
import { type Dice, sleep } from './rng.ts';
import type { JobSpec } from './workload.ts';

/** What happened to one logical request, as its client saw it. */
export interface RequestRecord {
  spec: JobSpec;
  /** Distinct job ids the API answered with, oldest first (a refused job is followed by a new one). */
  jobIds: string[];
  /** Answers by `status code` (plus the error code), e.g. `202`, `502 UPSTREAM_SERVER_ERROR`, `0 ECONNREFUSED`. */
  answers: Record<string, number>;
  attempts: number;
  /** Answers with `Idempotent-Replayed: true`. */
  replays: number;
  /** Concurrent requests with one key that were answered with different jobs (must never happen). */
  splitAnswers: string[];
  /** Tracked jobs: the upstream id the client adopted. */
  upstreamId?: string;
  /** Why the client stopped without an answer it could use. */
  failure?: string;
}

const MAX_ATTEMPTS = 60;

const label = (answer: Answer) =>
  answer.status === 0
    ? `0 ${answer.networkError ?? 'no answer'}`
    : `${answer.status}${errorCode(answer) ? ` ${errorCode(answer)}` : ''}`;

export class ChaosClient {
  readonly records = new Map<string, RequestRecord>();

  constructor(
    private readonly baseUrl: string,
    private readonly gate: Gate,
    private readonly dice: Dice,
    /** Retries stop at this time (epoch ms). */
    private readonly deadline: () => number,
  ) {}

  recordOf(spec: JobSpec): RequestRecord {
    let record = this.records.get(spec.key);
    if (!record) {
      record = { spec, jobIds: [], answers: {}, attempts: 0, replays: 0, splitAnswers: [] };
      this.records.set(spec.key, record);
    }
    return record;
  }

  private note(record: RequestRecord, answers: readonly Answer[]): Verdict {
    const ids = new Set<string>();
    let verdict: Verdict = 'retry';
    for (const answer of answers) {
      const key = label(answer);
      record.answers[key] = (record.answers[key] ?? 0) + 1;
      const job = jobOf(answer);
      if (job) {
        ids.add(job.jobId);
        if (!record.jobIds.includes(job.jobId)) record.jobIds.push(job.jobId);
      }
      if (answer.headers?.get('idempotent-replayed') === 'true') record.replays++;
      const v = verdictOf(answer);
      if (v === 'done' || (v === 'broken' && verdict !== 'done')) verdict = v;
      else if (v === 'refused' && verdict === 'retry') verdict = v;
    }
    if (ids.size > 1) record.splitAnswers.push([...ids].join(' '));
    if (verdict === 'broken') record.failure = answers.map(label).join(', ');
    return verdict;
  }

  private backoff(attempt: number): Promise<void> {
    const cap = Math.min(3000, 150 * 1.6 ** attempt);
    return sleep(cap / 2 + this.dice.float() * (cap / 2));
  }

  /** A 429 says when to come back (README: "`Retry-After` says when to retry"); anything else backs off. */
  private wait(answer: Answer, attempt: number): Promise<void> {
    const after = retryAfterMs(answer);
    return after === undefined ? this.backoff(attempt) : sleep(after + this.dice.float() * 250);
  }

  private waitAfter(answers: readonly Answer[], attempt: number): Promise<void> {
    return this.wait(answers.find((a) => a.status === 429) ?? { status: 0, body: undefined }, attempt);
  }

  /** POST /jobs until an answer names a job; `duplicates` extra identical requests go out with the first. */
  async submit(spec: JobSpec, options: { gated?: boolean } = {}): Promise<RequestRecord> {
    const record = this.recordOf(spec);
    const body = {
      input: spec.input,
      ...(spec.policy && { policy: spec.policy }),
      ...(spec.sync && { sync: true }),
      metadata: { chaosKey: spec.key, role: spec.role },
    };
    const post = () => send(this.baseUrl, 'POST', '/jobs', body, { 'idempotency-key': spec.key });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && Date.now() < this.deadline(); attempt++) {
      record.attempts++;
      const copies = attempt === 1 ? 1 + spec.duplicates : 1;
      const all = () => Promise.all(Array.from({ length: copies }, post));
      const answers = options.gated === false ? await all() : await this.gate.run(all);
      const verdict = this.note(record, answers);
      if (verdict === 'done' || verdict === 'broken') return record;
      await this.waitAfter(answers, attempt);
    }
    record.failure ??= 'gave up';
    return record;
  }

  /** Submits straight to the upstream (a job started elsewhere), then adopts it with POST /jobs/track. */
  async track(spec: JobSpec, emulator: Emulator, endpointId: string): Promise<RequestRecord> {
    const record = this.recordOf(spec);
    if (!record.upstreamId) {
      // A naive client elsewhere: one /run, no retry, so it can never start two jobs.
      const run = await this.gate.run(() =>
        send(
          emulator.baseUrlFor(endpointId),
          'POST',
          '/run',
          { input: spec.input },
          {
            authorization: `Bearer ${emulator.apiKey}`,
          },
        ),
      );
      const id = (run.body as { id?: unknown } | undefined)?.id;
      if (run.status !== 200 || typeof id !== 'string') {
        record.failure = `direct /run answered ${label(run)}`;
        return record;
      }
      record.upstreamId = id;
      // Some are adopted while running, some after they finished.
      await sleep(this.dice.int(0, 900));
    }
    const upstreamId = record.upstreamId;
    const post = () =>
      send(this.baseUrl, 'POST', '/jobs/track', { upstreamId, metadata: { chaosKey: spec.key } });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && Date.now() < this.deadline(); attempt++) {
      record.attempts++;
      const copies = attempt === 1 ? 1 + spec.duplicates : 1;
      const answers = await this.gate.run(() => Promise.all(Array.from({ length: copies }, post)));
      const verdict = this.note(record, answers);
      if (verdict === 'done' || verdict === 'broken') return record;
      await this.waitAfter(answers, attempt);
    }
    record.failure ??= 'gave up';
    return record;
  }

  /** POST /jobs/{id}/cancel until it is answered; a conflict means the job already ended. */
  async cancel(record: RequestRecord): Promise<void> {
    const jobId = record.jobIds[record.jobIds.length - 1];
    if (!jobId) return;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && Date.now() < this.deadline(); attempt++) {
      const answer = await this.gate.run(() => send(this.baseUrl, 'POST', `/jobs/${jobId}/cancel`));
      const key = `cancel ${label(answer)}`;
      record.answers[key] = (record.answers[key] ?? 0) + 1;
      if (answer.status === 200 || answer.status === 409) return;
      if (answer.status !== 0 && answer.status < 500 && answer.status !== 429) {
        record.failure = `cancel answered ${label(answer)}`;
        return;
      }
      await this.wait(answer, attempt);
    }
  }

  /** The operator's reconcile: attaches the upstream id found upstream to a job whose /run answer was lost. */
  async reconcile(record: RequestRecord, upstreamId: string): Promise<Answer | undefined> {
    const jobId = record.jobIds[record.jobIds.length - 1];
    if (!jobId) return undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && Date.now() < this.deadline(); attempt++) {
      const answer = await send(this.baseUrl, 'POST', `/jobs/${jobId}/reconcile`, { upstreamId });
      const key = `reconcile ${label(answer)}`;
      record.answers[key] = (record.answers[key] ?? 0) + 1;
      if (answer.status === 200) return answer;
      if (answer.status !== 0 && answer.status < 500 && answer.status !== 429) {
        record.failure = `reconcile answered ${label(answer)}`;
        return answer;
      }
      await this.wait(answer, attempt);
    }
    return undefined;
  }
}
