// How long a test's wait for the system may take before it is called a hang.

/**
 * A cap, not a judgement of speed: a busy machine may take many times a quiet one's seconds, and a test that
 * fails then says "slow", not "broken". Well inside the test timeout (120 s, vitest.config.ts), so a run
 * that never gets there still fails with the wait's own message.
 */
export const WAIT_CAP_MS = 60_000;
