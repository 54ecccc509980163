/**
 * The global top-K of a (group, window instance): each partition's local top-K read with the
 * partition's state revision (one script call per partition, sent together: pipelined per shard
 * on a cluster), merged in memory.
 */
import type { Cluster, Redis } from 'ioredis';
import { rank, type Scored } from '../ranking.js';
import { stateKeys } from '../stateKeys.js';
import type { GroupSpec, RankedEntry } from '../types.js';
import { earliestScore, parseEarliest } from './earliest.js';
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
  const earliest = spec.tieBreak === 'earliest';
  // The earliest layout keeps its ranking ascending (see earliest.ts).
  const order = earliest ? 'asc' : spec.order;
  const reads = await Promise.all(
    Array.from({ length: partitions }, (_, p) => {
      const keys = stateKeys(name, p);
      return redis.localTop(keys.scores(group, windowKey), keys.checkpoint, spec.k, order);
    }),
  );
  const candidates: Scored[] = [];
  for (const [, flat] of reads) {
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const score = Number(flat[i + 1]);
      if (earliest) {
        const { member, ts } = parseEarliest(flat[i]!);
        candidates.push({ member, ts, score: earliestScore(score, spec.order) });
      } else {
        candidates.push({ member: flat[i]!, score });
      }
    }
  }
  return {
    entries: rank(candidates, spec.order, spec.k, spec.tieBreak),
    seen: reads.map(([revision]) => revision).join(','),
  };
}
