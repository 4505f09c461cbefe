// Test projects: fast unit tests, CDK template tests, and integration tests against real local servers.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/setup.ts'],
          // A cap for a hang, not a speed goal: a 10 MiB capture took 6 s beside two busy processes, past the 5 s default.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // expect.poll waits for a state to come, however slow the machine: a cap, not a speed goal.
          expect: { poll: { timeout: 30_000 } },
        },
      },
    ],
  },
});
