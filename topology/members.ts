/**
 * Hiding a member of a group without deleting its scores (a banned player, one under review): it
 * leaves every read of the group (tops, ranks, totals, neighbours, pages) while its records keep
 * counting, and showing it again restores it at its current score. Takes effect in the next
 * snapshot of each of the group's tops, which this merges at once.
 */
import type { Cluster, Redis } from 'ioredis';
import { partitionFor } from 'redis-streams-consumer-groups';
import { defineOperatorScripts } from '../operators/internal/scripts.js';
import { parseClosingMember, parseWindowKey, type StateKeys, stateKeys } from '../operators/stateKeys.js';
import { refreshSnapshot } from '../operators/topK.js';
import type { WindowInstance } from '../operators/types.js';
import type { WindowDefinition } from '../operators/windowing.js';
import type { Topology } from './topology.js';

export interface MembersTarget<T> {
  topology: Topology<T>;
  redis: Redis | Cluster;
  partitions: number;
  /** The stream family's name. Default: the topology's stream. */
  name?: string;
}

/**
 * Hides (`hidden: true`) or shows a member of a group. Resolves with whether that changed
 * anything (false: it already was so).
 *
 * @example
 * await setHidden({ topology, redis, partitions: 16 }, 'global', 'cheater42', true);
 */
export async function setHidden<T>(
  target: MembersTarget<T>,
  group: string,
  member: string,
  hidden: boolean,
): Promise<boolean> {
  const { redis, topology, partitions } = target;
  const name = target.name ?? topology.definition.stream;
  const spec = topology.definition.spec(group);
  if (!spec) throw new RangeError(`unknown ${topology.definition.groupNoun} '${group}'`);
  defineOperatorScripts(redis);
  const keys = stateKeys(name, partitionFor(member, partitions));
  const instances = await instancesWithState(redis, keys, group, spec.windows);
  const all = [
    keys.hidden(group),
    keys.checkpoint,
    ...instances.flatMap((w) => [
      keys.scores(group, w.key),
      keys.hiddenScores(group, w.key),
      keys.times(group, w.key),
    ]),
  ];
  const [changed] = await redis.hideMember(
    all.length,
    ...all,
    member,
    hidden ? 'hide' : 'show',
    spec.tieBreak === 'earliest' ? '1' : '0',
  );
  for (const instance of instances) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const result = await refreshSnapshot({ redis, name, partitions }, group, instance, spec);
      if (result.written || result.covered) break;
    }
  }
  return changed === 1;
}

/** The hidden members of a group, over every partition. */
export async function hiddenMembers<T>(target: MembersTarget<T>, group: string): Promise<string[]> {
  const name = target.name ?? target.topology.definition.stream;
  const sets = await Promise.all(
    Array.from({ length: target.partitions }, (_, p) =>
      target.redis.smembers(stateKeys(name, p).hidden(group)),
    ),
  );
  return sets.flat().sort();
}

/**
 * The window instances of a group that may hold state in a partition: those of its closing set
 * (every instance that closes, once a record reached it), those archived since whose state is
 * still kept, and the current instance of each window that never closes (the global window).
 */
async function instancesWithState(
  redis: Redis | Cluster,
  keys: StateKeys,
  group: string,
  windows: readonly WindowDefinition[],
): Promise<WindowInstance[]> {
  const instances = new Map<string, WindowInstance>();
  for (const definition of windows) {
    const now = definition.windowAt(Date.now());
    if (!Number.isFinite(now.end)) {
      const key = `${definition.name}:${now.start}`;
      instances.set(key, { definition, start: now.start, end: now.end, key });
    }
  }
  const [closing, archived] = await Promise.all([
    redis.zrange(keys.closing, 0, -1),
    redis.zrangebyscore(keys.archived, `(${Date.now()}`, '+inf'),
  ]);
  for (const member of [...closing, ...archived]) {
    const { group: of, window: key } = parseClosingMember(member);
    if (of !== group) continue;
    const { window, start } = parseWindowKey(key);
    const definition = windows.find((w) => w.name === window);
    const instance = definition?.windowStartingAt(start);
    if (definition && instance)
      instances.set(key, { definition, start: instance.start, end: instance.end, key });
  }
  return [...instances.values()];
}
