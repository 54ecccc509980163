/**
 * The global top-K of a (group, window instance): each partition's local top-K read with the
 * partition's state revision (two commands per partition, all sent together: pipelined per
 * shard on a cluster), merged in memory.
 */
import type { Cluster, Redis } from 'ioredis';
import { rank, type Scored } from '../ranking.js';
import { type StateKeys, stateKeys } from '../stateKeys.js';
import type { GroupSpec, RankedEntry } from '../types.js';
import { earliestScore, parseEarliest } from './earliest.js';

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
  const earliest = spec.tieBreak === 'earliest';
  // The earliest layout keeps its ranking ascending (see earliest.ts).
  const order = earliest ? 'asc' : spec.order;
  const reads = await Promise.all(
    Array.from({ length: partitions }, (_, p) =>
      localTop(redis, stateKeys(name, p), group, windowKey, spec.k, order),
    ),
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

/**
 * One partition's local top-K, read after the partition's state revision (`rev` of the checkpoint
 * hash, bumped by every change of the partition's state: each applied batch, each replay swapped
 * in, each member hidden or shown), on one connection, in that order. A change applied between
 * the two reads makes the revision a lower bound of the state the entries come from, never an
 * upper one, which is what the dominance rule needs: a merge records the revisions it saw, and a
 * snapshot merged from older reads never replaces one merged from newer reads (writeSnapshot-1);
 * claiming less than it saw only lets a later merge replace it. Two plain commands, not a script:
 * a script returning the entries would convert them into Lua values and back, which costs Redis
 * more than the read; nor a transaction, which ioredis makes ten times as costly to fail (a
 * worker whose Redis is gone retries its merges).
 */
async function localTop(
  redis: Redis | Cluster,
  keys: StateKeys,
  group: string,
  windowKey: string,
  k: number,
  order: 'asc' | 'desc',
): Promise<[revision: string, flat: string[]]> {
  const scores = keys.scores(group, windowKey);
  const reads = redis.pipeline().hget(keys.checkpoint, 'rev');
  if (order === 'desc') reads.zrange(scores, 0, k - 1, 'REV', 'WITHSCORES');
  else reads.zrange(scores, 0, k - 1, 'WITHSCORES');
  const [[revisionError, revision], [rangeError, flat]] = (await reads.exec()) as [
    [Error | null, string | null],
    [Error | null, string[]],
  ];
  if (revisionError || rangeError) throw revisionError ?? rangeError;
  return [revision ?? '0', flat];
}
