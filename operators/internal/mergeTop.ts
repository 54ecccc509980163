/**
 * The global top-K of a (group, window instance): each partition's local top-K read with the
 * partition's state revision (one script call per partition, sent together: pipelined per shard
 * on a cluster), merged in memory.
 */
import type { Cluster, Redis } from 'ioredis';
import { rank } from '../ranking.js';
import { stateKeys } from '../stateKeys.js';
import type { GroupSpec, RankedEntry } from '../types.js';
import { defineOperatorScripts } from './scripts.js';

export interface MergedTop {
  entries: RankedEntry[];
  /** The revision of each partition's state the entries come from, `r0,r1,...`. */
  seen: string;
}

/**
 * @example
 * const { entries } = await mergeTop({ redis, name: 'lb', partitions: 16 }, 'global', 'all:0', spec);
 */
export async function mergeTop(
  target: { redis: Redis | Cluster; name: string; partitions: number },
  group: string,
  windowKey: string,
  spec: Pick<GroupSpec, 'k' | 'order' | 'tieBreak'>,
): Promise<MergedTop> {
  const { redis, name, partitions } = target;
  defineOperatorScripts(redis);
  const reads = await Promise.all(
    Array.from({ length: partitions }, (_, p) => {
      const keys = stateKeys(name, p);
      return redis.localTop(keys.scores(group, windowKey), keys.checkpoint, spec.k, spec.order);
    }),
  );
  const candidates: { member: string; score: number }[] = [];
  for (const [, flat] of reads) {
    for (let i = 0; i + 1 < flat.length; i += 2)
      candidates.push({ member: flat[i]!, score: Number(flat[i + 1]) });
  }
  return {
    entries: rank(candidates, spec.order, spec.k, spec.tieBreak),
    seen: reads.map(([revision]) => revision).join(','),
  };
}
