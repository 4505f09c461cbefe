// Child process entry: the SubModel emulator on an event loop of its own, answering emulator-process.ts over IPC.
import { type Emulator, type EmulatorOptions, startEmulator } from '../../local/emulator/index.ts';
import type { EmulatorAnswer, EmulatorCall, EmulatorReady } from './emulator-process.ts';

function answer(emulator: Emulator, call: EmulatorCall): unknown {
  switch (call.op) {
    case 'configure':
      return emulator.configureEndpoint(call.endpointId, call.options);
    case 'stats':
      return emulator.stats;
    case 'reset':
      return emulator.resetStats();
    case 'cpu': {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    }
    case 'stop':
      return undefined;
  }
}

process.once('message', async (options: EmulatorOptions) => {
  const emulator = await startEmulator(options);
  const stop = async () => {
    await emulator.stop();
    process.exit(0);
  };
  process.on('message', (message: { id: number; call: EmulatorCall }) => {
    const reply: EmulatorAnswer = { id: message.id };
    try {
      reply.result = answer(emulator, message.call);
    } catch (error) {
      reply.error = error instanceof Error ? error.message : String(error);
    }
    process.send?.(reply, () => {
      if (message.call.op === 'stop') void stop();
    });
  });
  // The parent died without asking: do not linger.
  process.on('disconnect', () => void stop());
  const ready: EmulatorReady = {
    type: 'ready',
    url: emulator.url,
    apiKey: emulator.apiKey,
    endpointBase: emulator.baseUrlFor(''),
  };
  process.send?.(ready);
});
