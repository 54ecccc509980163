/**
 * The global top-K of a (board, window instance): each partition's local top-K, read in one
 * round (one `ZRANGE` per partition, sent together), merged in memory. This is one level of the
 * tree reduction of the design: partitions are the leaves, this process the root.
 */
import type { Cluster, Redis } from 'ioredis';
import { type RankedEntry, rank } from './ranking.js';
import { scoresKey } from './stateKeys.js';
import type { Order } from './types.js';

export interface MergeTopOptions {
  redis: Redis | Cluster;
  name: string;
  partitions: number;
  board: string;
  /** Window key, e.g. `all:0`. */
  window: string;
  k: number;
  order: Order;
}

/**
 * @example
 * const top = await mergeTop({ redis, name: 'lb', partitions: 16, board: 'global', window: 'all:0', k: 10, order: 'desc' });
 */
export async function mergeTop(options: MergeTopOptions): Promise<RankedEntry[]> {
  const { redis, name, partitions, board, window, k, order } = options;
  const replies = await Promise.all(
    Array.from({ length: partitions }, (_, p) =>
      order === 'desc'
        ? redis.zrange(scoresKey(name, p, board, window), 0, k - 1, 'REV', 'WITHSCORES')
        : redis.zrange(scoresKey(name, p, board, window), 0, k - 1, 'WITHSCORES'),
    ),
  );
  const candidates: { userId: string; score: number }[] = [];
  for (const flat of replies) {
    for (let i = 0; i + 1 < flat.length; i += 2)
      candidates.push({ userId: flat[i]!, score: Number(flat[i + 1]) });
  }
  return rank(candidates, order, k);
}
