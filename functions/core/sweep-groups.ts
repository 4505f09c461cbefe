// The sweeper's fan-out: due shards split into groups, each swept by its own invocation under its own lease.
import { ALL_SHARDS } from './sweep-lease.ts';

/**
 * The name of group `index` of `groups` (its lease is `SWEEP#{name}`): `all` when there is one group, so a
 * single sweeper keeps the lease it always had.
 */
export const sweepGroupName = (index: number, groups: number): string =>
  groups === 1 ? ALL_SHARDS : `${index}of${groups}`;

/** Every group's name, in order. */
export const sweepGroupNames = (groups: number): string[] =>
  Array.from({ length: groups }, (_, i) => sweepGroupName(i, groups));

/** Shards `i` with `i % groups === index`: every shard in exactly one group, groups differ by one at most. */
export function shardsOfGroup(group: string, groups: number, shards: number): number[] {
  const index = sweepGroupNames(groups).indexOf(group);
  if (index < 0)
    throw new RangeError(`unknown sweep group ${JSON.stringify(group)}: one of ${sweepGroupNames(groups)}`);
  return Array.from({ length: shards }, (_, i) => i).filter((i) => i % groups === index);
}
