// Resolves a request's endpoint name against the configured endpoints.
import type { Config } from '../config.ts';
import { UnknownEndpointError } from './errors.ts';

export function resolveEndpoint(config: Config, requested: string | undefined): string {
  const name = requested ?? config.defaultEndpoint;
  const known = Object.keys(config.UPSTREAM_ENDPOINTS);
  if (!known.includes(name)) throw new UnknownEndpointError(name, known);
  return name;
}
