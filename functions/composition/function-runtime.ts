// Per-function composition: service dependencies built on first use from only the parts a handler names.
import type { JsonLogger } from '../adapters/logger.ts';
import { type Config, parseConfig } from '../config.ts';
import { systemClock } from '../core/ports.ts';
import type { ServiceDeps } from '../core/services.ts';
import { injectedRuntime } from './current.ts';
import { observability } from './observability.ts';

/** What a part builder gets: the parsed config and the function's logger (both built once). */
export interface PartContext {
  config: Config;
  logger: JsonLogger;
}

type Buildable = 'jobs' | 'archive' | 'upstream' | 'events' | 'webhookSecret' | 'urlFetcher' | 'sweepLease';

/** The adapters a function uses, each built by the first service call that reads it. */
export type Parts = { [K in Buildable]?: (context: PartContext) => ServiceDeps[K] };

/**
 * The runtime of one function: the injected one (local mode, tests) if any, else its own, whose config, logger
 * and metrics are made on first call and whose adapters are made on first read. A part the function does not
 * name is a wiring bug and fails loudly; an absent urlFetcher just means "no URL fetching".
 * @example const runtime = functionRuntime('results', { jobs: dynamoJobs, archive: s3Archive });
 */
export function functionRuntime(
  name: string,
  parts: Parts,
  env: Record<string, string | undefined> = process.env,
): () => ServiceDeps {
  let own: ServiceDeps | undefined;
  return () => {
    const injected = injectedRuntime();
    if (injected) return injected;
    own ??= build(name, parts, env);
    return own;
  };
}

function build(name: string, parts: Parts, env: Record<string, string | undefined>): ServiceDeps {
  const config = parseConfig(env);
  const { logger, metrics } = observability(config, env);
  const context: PartContext = { config, logger };
  const built = new Map<Buildable, unknown>();
  const lazy = <K extends Buildable>(key: K): ServiceDeps[K] => {
    if (!built.has(key)) {
      const make = parts[key];
      if (!make && key !== 'urlFetcher') throw new Error(`the ${name} function is not built with ${key}`);
      built.set(key, make?.(context));
    }
    return built.get(key) as ServiceDeps[K];
  };
  return {
    config,
    logger,
    metrics,
    clock: systemClock,
    get jobs() {
      return lazy('jobs');
    },
    get archive() {
      return lazy('archive');
    },
    get upstream() {
      return lazy('upstream');
    },
    get events() {
      return lazy('events');
    },
    get webhookSecret() {
      return lazy('webhookSecret');
    },
    get urlFetcher() {
      return lazy('urlFetcher');
    },
    get sweepLease() {
      return lazy('sweepLease');
    },
  };
}
