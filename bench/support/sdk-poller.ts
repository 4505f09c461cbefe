// The comparison client: RunPod's official JS SDK (runpod-sdk), submitting and polling /status with backoff.
import runpodSdk from 'runpod-sdk';
import type { Emulator } from '../../local/emulator/index.ts';
import { sleep } from './timing.ts';

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);

export interface PollingSchedule {
  /** First poll after submit, growing by `factor` per poll up to `maxMs` ("polling with backoff", RunPod's advice). */
  firstMs: number;
  factor: number;
  maxMs: number;
}

export interface SdkCapture {
  upstreamId: string;
  /** Status calls this job took until its final status was in hand. */
  statusCalls: number;
  /** Wall-clock ms when the final status was in hand. */
  capturedAt: number;
}

/**
 * Submits with `endpoint.run` and polls `endpoint.status` until the job is final. The SDK takes its base URL
 * as an option (`runpodSdk(key, { baseUrl })`), so it talks to the emulator exactly as it would to RunPod.
 */
export async function sdkCapture(
  emulator: Emulator,
  endpointId: string,
  input: Record<string, unknown>,
  schedule: PollingSchedule,
  timeoutMs = 120_000,
): Promise<SdkCapture> {
  const deadline = Date.now() + timeoutMs;
  const endpoint = runpodSdk(emulator.apiKey, { baseUrl: `${emulator.url}/v2` }).endpoint(endpointId);
  if (!endpoint) throw new Error('runpod-sdk returned no endpoint');
  // As long as the archiver's own submit may wait for /run (29 s): a loaded machine holds answers past 10 s.
  const { id } = await endpoint.run({ input }, 30_000);
  let wait = schedule.firstMs;
  let statusCalls = 0;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`job ${id} not final after ${timeoutMs} ms of polling`);
    await sleep(wait);
    wait = Math.min(wait * schedule.factor, schedule.maxMs);
    statusCalls++;
    try {
      const status = await endpoint.status(id, 10_000);
      if (FINAL.has(status.status)) return { upstreamId: id, statusCalls, capturedAt: Date.now() };
    } catch {
      // xior throws on a non-2xx (429, 5xx): the next poll comes after the backoff.
    }
  }
}
