// The runtime local mode and tests put in place for every handler of the process; no adapter is imported here.
import type { ServiceDeps } from '../core/services.ts';

let injected: ServiceDeps | undefined;

/** Local mode and tests: use this runtime for every handler in the process (undefined: back to each handler's own). */
export function setRuntime(value: ServiceDeps | undefined): void {
  injected = value;
}

export function injectedRuntime(): ServiceDeps | undefined {
  return injected;
}
