// The submitter's promises: one /run per job whatever the deliveries, back-pressure on 429, the fleet rate kept.
import { beforeEach, describe, expect, it } from 'vitest';
import { enqueueJob } from '../../../functions/core/enqueue.ts';
import { UpstreamRateLimitedError } from '../../../functions/core/errors.ts';
import { drainBatch, LATE_START_MS, type ReceivedMessage } from '../../../functions/core/submitter.ts';
import { type TestDeps, testDeps } from '../../support/fakes.ts';
import { type TestQueueDeps, testQueueDeps } from '../../support/queue-fakes.ts';

describe('submitter', () => {
  let deps: TestDeps;
  let queue: TestQueueDeps;
  /** Sleeping moves the manual clock to the wake-up time (never back): slot waits pass at once, observably. */
  const sleep = async (ms: number) => {
    const wake = deps.clock.now() + ms;
    await Promise.resolve();
    deps.clock.ms = Math.max(deps.clock.ms, wake);
  };
  const drain = (messages: ReceivedMessage[]) => drainBatch(deps, queue, messages, { sleep });
  /** Enqueues `n` jobs and returns the messages as the queue would deliver them. */
  const enqueue = async (n: number): Promise<ReceivedMessage[]> => {
    for (let i = 0; i < n; i++) await enqueueJob(deps, queue, { input: { i }, queue: true });
    return queue.queue.sent
      .splice(0)
      .map((s, i) => ({ messageId: `m${i}`, body: JSON.stringify(s.message) }));
  };

  beforeEach(() => {
    deps = testDeps();
    queue = testQueueDeps();
    let n = 0;
    deps.upstream.runImpl = async () => ({ id: `up-${++n}`, status: 'IN_QUEUE' });
  });

  it('records a queued job as QUEUED with its place, then sends it: PENDING with its upstream id', async () => {
    const messages = await enqueue(2);
    const second = JSON.parse(messages[1]?.body ?? '{}').jobId as string;
    expect((await deps.jobs.get(second))?.queuePlace).toBe(2);
    const result = await drain(messages);
    expect(result).toMatchObject({ sent: 2, failedMessageIds: [] });
    expect((await deps.jobs.get(second))?.state).toBe('PENDING');
    expect(deps.upstream.count('run')).toBe(2);
  });

  it('never calls /run twice for one message: a redelivery of a sent job is acknowledged', async () => {
    const messages = await enqueue(1);
    await drain(messages);
    const again = await drain(messages);
    expect(again).toMatchObject({ sent: 0, skipped: 1, failedMessageIds: [] });
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('leaves a job whose submitter stopped after taking the run claim to the sweeper, without a second /run', async () => {
    const messages = await enqueue(1);
    const jobId = JSON.parse(messages[0]?.body ?? '{}').jobId as string;
    await deps.jobs.claimForSubmit(jobId, deps.clock.now() + 30_000);
    await deps.jobs.arrange(jobId, { runAttemptedAt: new Date().toISOString() });
    const result = await drain(messages);
    expect(result).toMatchObject({ sent: 0, skipped: 1 });
    expect(deps.upstream.count('run')).toBe(0);
  });

  it('sends a job whose submitter stopped between its claim and the run claim', async () => {
    const messages = await enqueue(1);
    const jobId = JSON.parse(messages[0]?.body ?? '{}').jobId as string;
    await deps.jobs.claimForSubmit(jobId, deps.clock.now() + 30_000);
    expect((await drain(messages)).sent).toBe(1);
    expect(deps.upstream.count('run')).toBe(1);
  });

  it('a submitter that stops while it waits for its start time leaves the job unclaimed: the redelivery sends it', async () => {
    const messages = await enqueue(2);
    // One starts at once; the other must wait for its slot, and the submitter stops in that wait.
    const stopped = await drainBatch(deps, queue, messages, {
      sleep: async () => {
        throw new Error('the submitter stopped');
      },
    });
    expect(stopped.sent).toBe(1);
    const waiting = messages.filter((m) => stopped.failedMessageIds.includes(m.messageId));
    expect(waiting).toHaveLength(1);
    const jobId = JSON.parse(waiting[0]?.body ?? '{}').jobId as string;
    const left = await deps.jobs.get(jobId);
    expect(left?.state).toBe('SUBMITTING');
    expect(left?.runAttemptedAt).toBeUndefined();
    expect((await drain(waiting)).sent).toBe(1);
    expect((await deps.jobs.get(jobId))?.state).toBe('PENDING');
    expect(deps.upstream.count('run')).toBe(2);
  });

  it('on a 429 puts the job back QUEUED, delays its message and pauses the endpoint for every submitter', async () => {
    const messages = await enqueue(1);
    const jobId = JSON.parse(messages[0]?.body ?? '{}').jobId as string;
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 2000);
    };
    const result = await drain(messages);
    expect(result).toMatchObject({ sent: 0, deferred: 1, failedMessageIds: [] });
    const job = await deps.jobs.get(jobId);
    expect(job?.state).toBe('QUEUED');
    expect(job?.runAttemptedAt).toBeUndefined();
    expect(queue.queue.sent).toHaveLength(1);
    expect(queue.queue.sent[0]?.message.attempt).toBe(1);
    expect(queue.queue.sent[0]?.delaySeconds).toBeGreaterThanOrEqual(2);
    expect(queue.runRate.next.get('default')).toBeGreaterThanOrEqual(deps.clock.now() + 2000 - 20);
    // The put-back message sends it once the upstream takes jobs again.
    deps.upstream.runImpl = async () => ({ id: 'up-later', status: 'IN_QUEUE' });
    deps.clock.advance(2000);
    const retried = queue.queue.sent
      .splice(0)
      .map((s) => ({ messageId: 'r', body: JSON.stringify(s.message) }));
    expect((await drain(retried)).sent).toBe(1);
    expect((await deps.jobs.get(jobId))?.state).toBe('PENDING');
  });

  it('pauses an endpoint for the episode, not for how often one unlucky job met a 429', async () => {
    const messages = await enqueue(1);
    const body = { ...JSON.parse(messages[0]?.body ?? '{}'), attempt: 12 };
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 0);
    };
    await drain([{ messageId: 'm0', body: JSON.stringify(body) }]);
    // Per job, 12 earlier 429s would have paused every job of the endpoint for 2^12 s (capped at 15 min).
    expect(queue.runRate.next.get('default')).toBe(deps.clock.now() + 1000);
    expect(queue.queue.sent[0]).toMatchObject({ delaySeconds: 1, message: { attempt: 13 } });
  });

  it('meets a 429 with the others held back: the starts handed out before it are put back unsent', async () => {
    deps.config = { ...deps.config, QUEUE_RUN_CONCURRENCY: 1 };
    const messages = await enqueue(5);
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 0);
    };
    const result = await drain(messages);
    expect(deps.upstream.count('run')).toBe(1);
    expect(result).toMatchObject({ sent: 0, deferred: 5, failedMessageIds: [] });
    // Held ones were never claimed: still QUEUED, their messages due back when the endpoint resumes.
    expect(queue.queue.sent.map((s) => s.delaySeconds)).toEqual([1, 1, 1, 1, 1]);
    for (const m of messages) expect((await deps.jobs.get(JSON.parse(m.body).jobId))?.state).toBe('QUEUED');
  });

  it('lets the 429s of starts already in flight echo one pause, not double it once each', async () => {
    const messages = await enqueue(5);
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 0);
    };
    await drain(messages);
    expect(deps.upstream.count('run')).toBe(5);
    expect(queue.runRate.pauses.get('default')?.ms).toBe(1000);
    // Still full right after the pause: the next 429 doubles it.
    deps.clock.ms = (queue.runRate.next.get('default') ?? 0) + 10;
    const again = queue.queue.sent
      .splice(0, 1)
      .map((s) => ({ messageId: 'r', body: JSON.stringify(s.message) }));
    await drain(again);
    expect(queue.runRate.pauses.get('default')?.ms).toBe(2000);
  });

  it('on a 429 whose pause and place writes fail, still drops the run claim: the redelivery sends the job', async () => {
    const messages = await enqueue(1);
    const jobId = JSON.parse(messages[0]?.body ?? '{}').jobId as string;
    deps.upstream.runImpl = async () => {
      throw new UpstreamRateLimitedError('run', 2000);
    };
    const storeDown = async () => {
      throw new Error('store unavailable');
    };
    queue.runRate.backOff = storeDown;
    queue.positions.accept = storeDown;
    queue.queue.send = storeDown;
    const result = await drain(messages);
    // Nothing put back: the message is handed back for redelivery, with the job QUEUED and unclaimed.
    expect(result.failedMessageIds).toEqual([messages[0]?.messageId]);
    const job = await deps.jobs.get(jobId);
    expect(job?.state).toBe('QUEUED');
    expect(job?.runAttemptedAt).toBeUndefined();
    deps.upstream.runImpl = async () => ({ id: 'up-later', status: 'IN_QUEUE' });
    expect((await drain(messages)).sent).toBe(1);
    expect((await deps.jobs.get(jobId))?.state).toBe('PENDING');
    expect(deps.upstream.count('run')).toBe(2);
  });

  it('starts /run no closer together than the rate interval, and puts back what falls beyond the horizon', async () => {
    deps.config = { ...deps.config, QUEUE_HORIZON_MS: 200 };
    const messages = await enqueue(40);
    const starts: number[] = [];
    deps.upstream.runImpl = async () => {
      starts.push(deps.clock.now());
      return { id: `up-${starts.length}`, status: 'IN_QUEUE' };
    };
    const drainedAt = deps.clock.now();
    const result = await drain(messages);
    // A 200 ms horizon at 97 per second: 20 now (the first at once), the other 20 put back.
    expect(result.sent + result.deferred).toBe(40);
    expect(result.deferred).toBe(queue.queue.sent.length);
    expect(result.sent).toBe(20);
    // Every /run starts at its slot or after it, never before: the i-th start comes no sooner than i intervals
    // after the first slot, so never more than the rate at any time.
    const sorted = [...starts].sort((a, b) => a - b);
    sorted.forEach((t, i) => {
      expect(t - drainedAt).toBeGreaterThanOrEqual((i * 10_000) / 970 - 1e-3);
    });
  });

  /** The run claim takes `ms` on this busy submitter: the start time handed out is reached that late. */
  const slowRunClaim = (ms: number, times = Number.POSITIVE_INFINITY) => {
    const claimRun = deps.jobs.claimRun.bind(deps.jobs);
    let slow = 0;
    deps.jobs.claimRun = async (...args: Parameters<typeof claimRun>) => {
      if (slow++ < times) deps.clock.ms += ms;
      return claimRun(...args);
    };
  };

  /** The batch's take as the rate item gives it; every later one (a trade's) as `fresh` says. */
  const onFreshTakes = (
    fresh: (...args: Parameters<TestQueueDeps['runRate']['take']>) => Promise<number[]>,
  ) => {
    const take = queue.runRate.take.bind(queue.runRate);
    let takes = 0;
    queue.runRate.take = (...args) => (takes++ === 0 ? take(...args) : fresh(...args));
    return take;
  };

  it('trades a start time reached late for a fresh one: a late /run never arrives among the on-time ones', async () => {
    const messages = await enqueue(3);
    const starts: number[] = [];
    deps.upstream.runImpl = async () => {
      starts.push(deps.clock.now());
      return { id: `up-${starts.length}`, status: 'IN_QUEUE' };
    };
    slowRunClaim(LATE_START_MS + 50, 1);
    const stallEnds = deps.clock.now() + LATE_START_MS + 50;
    const result = await drain(messages);
    expect(result).toMatchObject({ sent: 3, deferred: 0, failedMessageIds: [] });
    // The stall made every start of the batch late: each traded, none sent bunched behind the first.
    expect(deps.metrics.get('LateStartsTraded')).toBe(3);
    // However late the starts, the fleet's rate holds from the stall on: the i-th start after it comes no
    // sooner than i intervals on (without the trade, all three went at once when the stall ended).
    const interval = 10_000 / 970;
    const sorted = [...starts].sort((a, b) => a - b);
    sorted.forEach((t, i) => {
      expect(t - stallEnds).toBeGreaterThanOrEqual(i * interval - 1e-3);
    });
  });

  it('trades a late start once: a submitter too busy to keep any start still sends, without a put-back loop', async () => {
    const messages = await enqueue(1);
    slowRunClaim(LATE_START_MS + 50);
    // The fresh start time is reached late too (the machine stalls again): sent all the same.
    const take = onFreshTakes(async (...args) => {
      const slots = await take(...args);
      deps.clock.ms = (slots[0] ?? deps.clock.ms) + LATE_START_MS + 50;
      return slots;
    });
    const result = await drain(messages);
    expect(result).toMatchObject({ sent: 1, deferred: 0, failedMessageIds: [] });
    expect(deps.metrics.get('LateStartsTraded')).toBe(1);
    expect(queue.queue.sent).toHaveLength(0);
  });

  it('sends a late start as it is when the rate item gives no fresh one; a 429 it meets backs off as any', async () => {
    const messages = await enqueue(2);
    slowRunClaim(LATE_START_MS + 50);
    onFreshTakes(async () => {
      throw new Error('store unavailable');
    });
    let runs = 0;
    deps.upstream.runImpl = async () => {
      if (++runs === 2) throw new UpstreamRateLimitedError('run', 1000);
      return { id: `up-${runs}`, status: 'IN_QUEUE' };
    };
    const result = await drain(messages);
    expect(result).toMatchObject({ sent: 1, deferred: 1, failedMessageIds: [] });
    const states = await Promise.all(
      messages.map(async (m) => (await deps.jobs.get(JSON.parse(m.body).jobId as string))?.state),
    );
    expect(states.sort()).toEqual(['PENDING', 'QUEUED']);
  });

  it('reports a message failed when the store fails, so the queue redelivers it; unreadable bodies are dropped', async () => {
    const messages = await enqueue(1);
    const get = deps.jobs.get.bind(deps.jobs);
    deps.jobs.get = async () => {
      throw new Error('store down');
    };
    const result = await drain([...messages, { messageId: 'junk', body: 'not json' }]);
    expect(result.failedMessageIds).toEqual(['m0']);
    expect(result.skipped).toBe(1);
    deps.jobs.get = get;
    expect((await drain(messages)).sent).toBe(1);
  });
});
