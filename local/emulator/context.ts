// What a running job's handler sees: its input, a derived seed and duration, and abortable waits and streaming.
import { DEFAULT_DURATION_MS, type HandlerContext } from './handlers.ts';
import type { Job } from './jobs.ts';
import type { Settings } from './options.ts';
import { hash32, stableStringify } from './random.ts';
import { abortableSleep } from './timers.ts';

export function handlerContext(
  job: Job,
  name: string,
  workerId: string,
  signal: AbortSignal,
  settings: Settings,
  baseUrl: () => string,
): HandlerContext {
  const scale = (ms: number) => Math.max(0, ms * settings.timeScale);
  const requested = job.input.durationMs;
  const fallback = DEFAULT_DURATION_MS[name];
  const durationMs =
    typeof requested === 'number' && Number.isFinite(requested)
      ? scale(requested)
      : fallback !== undefined
        ? scale(fallback)
        : settings.jobDurationMs;
  const inputSeed = job.input.seed;
  return {
    input: job.input,
    jobId: job.id,
    workerId,
    attempt: job.retries,
    // Outputs depend on the input and the emulator seed only, so two runs of one input compare equal.
    seed:
      typeof inputSeed === 'number' && Number.isInteger(inputSeed)
        ? inputSeed >>> 0
        : hash32(stableStringify(job.input), settings.seed),
    durationMs,
    maxOutputBytes: settings.maxOutputBytes,
    scale,
    sleep: (ms) => abortableSleep(ms, signal),
    emit: (output) => {
      if (!signal.aborted) job.chunks.push(output);
    },
    fileUrl: (index, seed, width, height) => {
      const query = new URLSearchParams({
        seed: String(seed),
        w: String(width),
        h: String(height),
        expires: String(Date.now() + settings.fileUrlTtlMs),
      });
      return `${baseUrl()}/files/${encodeURIComponent(job.id)}/${index}.png?${query}`;
    },
  };
}

/** A stable 14-character id per endpoint worker slot, shaped like RunPod's worker ids. */
export function workerIdFor(endpointId: string, slot: number, seed: number): string {
  const a = hash32(`${endpointId}#${slot}`, seed).toString(36);
  const b = hash32(`${slot}#${endpointId}`, seed ^ 0x5bd1e995).toString(36);
  return `${a}${b}`.padEnd(14, '0').slice(0, 14);
}
