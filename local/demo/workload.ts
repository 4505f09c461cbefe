// The demo's jobs: one of each thing that goes right and wrong upstream, as emulator inputs.

export interface DemoJob {
  name: string;
  /** What the job shows, printed beside it. */
  shows: string;
  request: Record<string, unknown>;
  /** Cancel this long after submitting. */
  cancelAfterMs?: number;
}

export const DEMO_JOBS: DemoJob[] = [
  {
    name: 'text',
    shows: 'webhook delivers a text output',
    request: { input: { prompt: 'Describe a lighthouse at dawn' } },
  },
  {
    name: 'image-base64',
    shows: 'base64 image stored as a real PNG',
    request: { input: { handler: 'image-base64', width: 64, height: 64 } },
  },
  {
    name: 'image-url',
    shows: 'output with presigned-style image URLs',
    request: { input: { handler: 'image-url', count: 2 } },
  },
  {
    name: 'stream',
    shows: 'generator output',
    request: { input: { handler: 'stream', chunks: 4, durationMs: 800 } },
  },
  {
    name: 'failure',
    shows: 'FAILED job archived with its error',
    request: { input: { handler: 'fail', message: 'CUDA out of memory' } },
  },
  {
    name: 'timeout',
    shows: 'TIMED_OUT (no webhook is sent for it)',
    request: { input: { handler: 'slow', durationMs: 20_000 }, policy: { executionTimeout: 5000 } },
  },
  {
    name: 'cancel',
    shows: 'cancelled through the API',
    request: { input: { handler: 'slow', durationMs: 30_000 } },
    cancelAfterMs: 1500,
  },
  {
    name: 'large-7MB',
    shows: 'webhook over 6 MB: refused by the API, swept',
    request: { input: { handler: 'large', bytes: 7_000_000 } },
  },
  {
    name: 'webhook-dropped',
    shows: 'webhook never sent: the sweeper captures it',
    request: { input: { prompt: 'lost callback', _emulator: { webhook: { drop: true } } } },
  },
  {
    name: 'webhook-twice',
    shows: 'webhook delivered twice: one archive',
    request: { input: { prompt: 'double callback', _emulator: { webhook: { duplicate: true } } } },
  },
  {
    name: 'webhook-empty',
    shows: 'empty webhook body: confirmed by /status',
    request: { input: { prompt: 'empty callback', _emulator: { webhook: { body: 'empty' } } } },
  },
  {
    name: 'sync',
    shows: 'sync:true: answered already archived',
    // The webhook comes late on purpose: /runsync's answer archives first, so the row reads the same every run.
    request: { input: { prompt: 'right now', _emulator: { webhook: { delayMs: 3000 } } }, sync: true },
  },
];
