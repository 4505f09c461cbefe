// The archiver's clients in a chaos run: submit (direct, queued, batched), track, cancel and reconcile, retrying as a careful client does.
import type { Emulator } from '../../local/emulator/index.ts';
import type { Gate } from './gate.ts';
import { type Answer, errorCode, jobOf, retryAfterMs, send, type Verdict, verdictOf } from './http.ts';
import { type Dice, sleep } from './rng.ts';
import { isQueued, type JobSpec } from './workload.ts';

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

  /** Sends a request again the way it was first sent: a batch line goes as a batch of one. */
  resend(spec: JobSpec): Promise<unknown> {
    return spec.via === 'batch' ? this.submitBatch([spec]) : this.submit(spec);
  }

  /** POST /jobs until an answer names a job; `duplicates` extra identical requests go out with the first. */
  async submit(spec: JobSpec, options: { gated?: boolean } = {}): Promise<RequestRecord> {
    const record = this.recordOf(spec);
    const body = {
      ...jobFields(spec),
      ...(spec.sync && { sync: true }),
      ...(isQueued(spec) && { queue: true }),
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

  /**
   * POST /jobs/batch until every line is answered with a job; the lines not answered 2xx are sent again (with
   * their keys, as the README says), a batch with no answer or a 5xx whole. `duplicates` of the first line:
   * extra copies of the whole batch sent at the same moment.
   */
  async submitBatch(specs: readonly JobSpec[], options: { gated?: boolean } = {}): Promise<RequestRecord[]> {
    const records = specs.map((spec) => this.recordOf(spec));
    let pending = [...records];
    for (
      let attempt = 1;
      pending.length > 0 && attempt <= MAX_ATTEMPTS && Date.now() < this.deadline();
      attempt++
    ) {
      const body = { jobs: pending.map((r) => ({ ...jobFields(r.spec), idempotencyKey: r.spec.key })) };
      const post = () => send(this.baseUrl, 'POST', '/jobs/batch', body);
      const copies = attempt === 1 ? 1 + (specs[0]?.duplicates ?? 0) : 1;
      const all = () => Promise.all(Array.from({ length: copies }, post));
      const answers = options.gated === false ? await all() : await this.gate.run(all);
      const next: RequestRecord[] = [];
      for (const [index, record] of pending.entries()) {
        record.attempts++;
        const verdict = this.note(
          record,
          answers.map((answer) => lineAnswer(answer, index)),
        );
        if (verdict === 'retry' || verdict === 'refused') next.push(record);
      }
      pending = next;
      if (pending.length > 0) await this.waitAfter(answers, attempt);
    }
    for (const record of pending) record.failure ??= 'gave up';
    return records;
  }

  /** Submits straight to the upstream (a job started elsewhere), then adopts it with POST /jobs/track. */
  async track(spec: JobSpec, emulator: Emulator, endpointId: string): Promise<RequestRecord> {
    const record = this.recordOf(spec);
    if (!record.upstreamId) {
      // A naive client elsewhere: one /run, retried only after a 429 (which certainly started nothing), so it
      // can never start two jobs.
      const runOnce = () =>
        this.gate.run(() =>
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
      let run = await runOnce();
      for (let attempt = 1; run.status === 429 && attempt < MAX_ATTEMPTS; attempt++) {
        await this.backoff(attempt);
        run = await runOnce();
      }
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

/** What POST /jobs and a batch line both carry. */
function jobFields(spec: JobSpec) {
  return {
    input: spec.input,
    ...(spec.policy && { policy: spec.policy }),
    metadata: { chaosKey: spec.key, role: spec.role },
  };
}

interface BatchLine {
  index: number;
  status: number;
  job?: unknown;
  error?: unknown;
  replayed?: boolean;
}

/**
 * The answer one batch line got: its own result in a 202/207, or the batch's whole answer (no answer, a 5xx,
 * a refusal of the whole request), so each line is judged as a POST /jobs of its own would be.
 */
function lineAnswer(answer: Answer, index: number): Answer {
  const results = (answer.body as { results?: unknown } | undefined)?.results;
  if ((answer.status !== 202 && answer.status !== 207) || !Array.isArray(results)) return answer;
  const line = (results as BatchLine[]).find((r) => r.index === index);
  if (!line) return { status: 0, body: undefined, networkError: `batch answer without line ${index}` };
  return {
    status: line.status,
    headers: new Headers(line.replayed ? { 'idempotent-replayed': 'true' } : {}),
    body: line.job !== undefined ? { job: line.job } : { error: line.error },
  };
}
