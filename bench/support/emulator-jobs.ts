// Creating upstream jobs in the emulator through its own /run, the way any client would.
import type { Emulator } from '../../local/emulator/index.ts';
import { runPool } from './timing.ts';

/** Where `/run` goes: an emulator of this process, or one in a child (emulator-process.ts). */
export type UpstreamTarget = Pick<Emulator, 'apiKey' | 'baseUrlFor'>;

export interface RunBody {
  input: Record<string, unknown>;
  webhook?: string;
}

/** Submits every body to `/run` of the endpoint; resolves with the upstream ids in order. */
export async function submitUpstream(
  emulator: UpstreamTarget,
  endpointId: string,
  bodies: readonly RunBody[],
  concurrency = 64,
): Promise<string[]> {
  const url = `${emulator.baseUrlFor(endpointId)}/run`;
  return runPool(bodies, concurrency, async (body) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulator.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { id?: string };
    if (!response.ok || typeof answer.id !== 'string') {
      throw new Error(`emulator /run answered ${response.status}: ${JSON.stringify(answer)}`);
    }
    return answer.id;
  });
}

/** Sum of the emulator's status-class requests (status, status-sync, stream). */
export function statusRequests(emulator: Emulator): number {
  const r = emulator.stats.requests;
  return (r.status ?? 0) + (r['status-sync'] ?? 0) + (r.stream ?? 0);
}
