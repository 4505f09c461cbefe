// Chaos run settings: the size and seed a caller picks, and the fixed timings and fault rates of every run.
import type { EmulatorOptions, FaultOptions } from '../../local/emulator/index.ts';

export interface ChaosOptions {
  /** Logical jobs: submitted through POST /jobs (most) or adopted with POST /jobs/track. */
  jobs: number;
  seed: number;
  /** Client requests in flight at once. */
  concurrency: number;
  /** Where the stores keep their data; a temporary folder (removed afterwards) when absent. */
  dataDir?: string;
  /**
   * The overall cap on settling after the last submission. Settling ends by itself when every job is final
   * or the system is quiescent (settle.ts); the cap only stops a run that is still moving, very slowly.
   */
  settleTimeoutMs: number;
  /** Busy processes competing for the cores during the run (`--slow`): the loaded machine, on purpose. */
  cpuHogs: number;
  /** Progress lines (the figures are returned, not logged). */
  log: (line: string) => void;
}

/** The CI size: at least 2,000 jobs, a few minutes on a 2-core machine. */
export const CI_JOBS = 2000;

export const defaultChaosOptions = (): ChaosOptions => ({
  jobs: CI_JOBS,
  seed: 1,
  concurrency: 64,
  settleTimeoutMs: 30 * 60_000,
  cpuHogs: 0,
  log: () => undefined,
});

/**
 * Upstream timings. Retention is the one window the run compresses least: a capture killed mid-way keeps its
 * job for the archiver's 2-minute lease, and a sweeper pass may then run a minute before the next one takes
 * it (production: a 30-minute window against the same 2 + 1 minutes).
 */
export const EMULATOR_RETENTION_MS = 300_000;
/** Webhooks held back this long arrive after the sweeper's first look (FIRST_LOOK_MS + a pass). */
export const WEBHOOK_DELAY_MS = 3000;

/**
 * AWS's sweeper timings scaled by TIME_SCALE: a schedule of 1 minute, a runsync result kept 60 s. The
 * sweeper invocation sweeps on within its period (sweep-invocation.ts), so a runsync job whose webhook is
 * lost is still captured inside its retention, as it must be in AWS.
 */
export const TIME_SCALE = 1 / 5;
export const SWEEP_INTERVAL_MS = 60_000 * TIME_SCALE;
export const RUNSYNC_RETENTION_MS = 60_000 * TIME_SCALE;
/** The runsync wait (AWS: 25 s); shorter than SYNC_LATE_MS, so those jobs outlive it. */
const RUNSYNC_WAIT_MS = 1000;
/** How long the late runsync jobs run: past the wait, well inside one scaled minute. */
export const SYNC_LATE_MS = { min: 1500, max: 4000 };

export const CHAOS_EMULATOR: EmulatorOptions = {
  retentionMs: EMULATOR_RETENTION_MS,
  runsyncRetentionMs: RUNSYNC_RETENTION_MS,
  jobDurationMs: 40,
  startDelayMs: 5,
  // Enough workers that the queue never builds: throughput is bounded by the archiver, not by the GPUs.
  workers: 96,
  webhookRetryDelayMs: 200,
  webhookTimeoutMs: 5000,
};

/** The standing emulator faults of the whole run (phases add to them for a while). */
export const BASE_FAULTS: FaultOptions = {
  webhookDrop: 0.3,
  webhookDuplicate: 0.2,
  webhookDelay: 0.1,
  webhookDelayMs: WEBHOOK_DELAY_MS,
  webhookEmptyBody: 0.05,
  webhookNullBody: 0.01,
  serverError: { status: 0.05 },
  latencyMs: { status: 15, run: 25, cancel: 15 },
};

/**
 * Archiver settings. RETENTION_MS is shorter than the emulator's (the archiver is told results go sooner than
 * they do, the safe direction): it sets how long an ambiguous submit waits for its webhook before it is
 * settled as REJECTED, which must fit in the run.
 */
export const CHAOS_CONFIG: Record<string, string> = {
  RETENTION_MS: '40000',
  FIRST_LOOK_MS: '1500',
  LOOK_INTERVAL_MS: '1000',
  NOT_FOUND_GRACE_MS: '1000',
  SUBMIT_STALE_MS: '30000',
  SWEEP_SAFETY_MS: '1000',
  RUNSYNC_WAIT_MS: String(RUNSYNC_WAIT_MS),
  // One invocation per scaled minute, sweeping on for most of it (AWS: 50 s of 60, passes 3 s apart).
  SWEEP_INVOCATION_MS: String(Math.round(50_000 * TIME_SCALE)),
  SWEEP_REPEAT_MS: '300',
  SWEEP_LEASE_MS: String(Math.round(20_000 * TIME_SCALE)),
  // A dead runsync capture's lease runs out inside the scaled 60 s retention, as AWS's 25 s does inside 60 s.
  SYNC_CAPTURE_LEASE_MS: String(Math.round(25_000 * TIME_SCALE)),
  // A QUEUED job whose message was lost (the queue restarts with the archiver, as local mode's does) is re-sent
  // a scaled 5 minutes after its estimated start, inside the run.
  QUEUE_RECOVERY_MARGIN_MS: String(Math.round(300_000 * TIME_SCALE)),
  LOG_LEVEL: 'silent',
};

/** Share of the planned jobs sent through the submit queue (half `"queue": true`, half POST /jobs/batch). */
export const QUEUED_SHARE = 0.08;

/**
 * Faults of the submit queue's consumers (queue-faults.ts), per message or per delete call: each one makes SQS
 * deliver a message again that a submitter has already handled, or is handling right now.
 */
export const QUEUE_FAULT_RATES = {
  /** A poller's DeleteMessageBatch never reaches the queue, though the poller takes it as done. */
  lostAck: 0.03,
  /** A message's visibility ends as its batch starts: another poller receives it while this one works on it. */
  visibilityCut: 0.03,
  /** The handler reports a message it handled as failed (a partial batch failure). */
  reportedFailed: 0.03,
};

/** Storage faults per SDK attempt (about 2% for each service: DynamoDB, S3, SQS) and rarer kinds, see storage-faults.ts. */
export const STORAGE_FAULT_RATES = {
  /** Throttling (ProvisionedThroughputExceeded / SlowDown): retried by the SDK with its throttling backoff. */
  throttle: 0.01,
  /** 500/503 before the request is applied: retried by the SDK. */
  serverError: 0.01,
  /** 500 after the request was applied (DynamoDB: "may or may not have succeeded"). */
  appliedThenError: 0.002,
  /** Every attempt of the call fails: the error escapes the SDK's retries to the application. */
  outlastsRetries: 0.001,
};

/**
 * Short windows in which every call to one store fails (a partition or a node having a bad moment). The windows
 * take the three services in turn, so each one has a brownout every 30 s.
 */
export const BROWNOUT = { everyMs: 10_000, lastsMs: 400 };

/** `--slow` starts this many busy processes: the "loaded" machine is 2 cores and 2 hogs. */
export const SLOW_HOGS = 2;

const USAGE = 'use --jobs N --seed S --concurrency C --data DIR --settle-timeout MS --slow [--hogs N]';

/**
 * Parses `--jobs N --seed S --concurrency C --data DIR --settle-timeout MS --slow --hogs N`; unknown flags
 * are an error.
 */
export function parseChaosArgs(argv: readonly string[], base: ChaosOptions): ChaosOptions {
  const options = { ...base };
  const number = (flag: string, value: string | undefined, min: number): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${flag} needs an integer ≥ ${min}`);
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--jobs') options.jobs = number(flag, value, 100);
    else if (flag === '--seed') options.seed = number(flag, value, 0);
    else if (flag === '--concurrency') options.concurrency = number(flag, value, 1);
    else if (flag === '--settle-timeout') options.settleTimeoutMs = number(flag, value, 1000);
    else if (flag === '--data' && value) options.dataDir = value;
    else if (flag === '--hogs') options.cpuHogs = number(flag, value, 0);
    else if (flag === '--slow') {
      options.cpuHogs = Math.max(options.cpuHogs, SLOW_HOGS);
      continue;
    } else throw new Error(`unknown option ${flag ?? ''} (${USAGE})`);
    i++;
  }
  return options;
}
