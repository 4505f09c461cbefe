// Bursts of 429: another client of the same API key holds every status slot with long polls for a while.
import { spawn } from 'node:child_process';
import type { Emulator } from '../../local/emulator/index.ts';
import { adopt } from './children.ts';
import { send } from './http.ts';

/** A job that runs for an hour, for the long polls to wait on (never tracked by the archiver). */
export async function parkJob(emulator: Emulator, endpointId: string): Promise<string> {
  const answer = await send(
    emulator.baseUrlFor(endpointId),
    'POST',
    '/run',
    { input: { handler: 'slow', durationMs: 3_600_000 }, policy: { executionTimeout: 3_600_000 } },
    { authorization: `Bearer ${emulator.apiKey}` },
  );
  const id = (answer.body as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') throw new Error(`could not park a job: ${answer.status}`);
  return id;
}

/**
 * The other client, as its own process (its own event loop, like a real neighbour): calls as fast as 64
 * connections can until the status class's 10-second allowance is spent (its first 429), keeps calling for
 * `holdMs` more (refused calls cost it nothing), and prints how many of its calls were answered 429. Gives up
 * after 30 s whatever happens.
 */
const NEIGHBOUR = `
const http = require('node:http');
const [url, key, holdMs] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let own = 0;
let until = Infinity;
const one = () => new Promise((resolve) => {
  const req = http.request(url, { agent, headers: { authorization: 'Bearer ' + key } }, (res) => {
    // The first refusal: the window is full. Keep it full for holdMs.
    if (res.statusCode === 429 && own++ === 0) until = Date.now() + Number(holdMs);
    res.resume();
    res.on('end', resolve);
    res.on('error', resolve);
  });
  req.on('error', resolve);
  req.end();
});
const stop = Date.now() + 30000;
const worker = async () => { while (Date.now() < until && Date.now() < stop) await one(); };
Promise.all(Array.from({ length: 64 }, worker)).then(() => { agent.destroy(); process.stdout.write(String(own)); });
`;

/**
 * Another client of the same API key spends the whole status allowance (2,000 calls per 10 s) in a burst and
 * keeps the window full for `holdMs`: meanwhile every other status call (the archiver's sweeper and webhook
 * look-ups) is answered 429. Returns the 429s the emulator sent meanwhile to others (the archiver) and to
 * that client itself.
 */
export async function rateLimitBurst(
  emulator: Emulator,
  endpointId: string,
  parkedId: string,
  holdMs: number,
): Promise<{ others: number; own: number }> {
  const before = emulator.stats.tooManyRequests;
  const url = `${emulator.baseUrlFor(endpointId)}/status/${parkedId}`;
  const child = adopt(
    spawn(process.execPath, ['-e', NEIGHBOUR, url, emulator.apiKey, String(holdMs)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  const own = Number(out) || 0;
  return { others: emulator.stats.tooManyRequests - before - own, own };
}
