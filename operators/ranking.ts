/**
 * The board order and tie rule, in one place for the merge, the queries and the tests' models.
 *
 * Order: by score (descending or ascending, per board). Ties: equal scores share a rank
 * (competition ranking: 1, 2, 2, 4) and are listed in Redis sorted-set order, which is by user id
 * bytes: descending on `desc` boards, ascending on `asc` boards. That is the order `ZRANGE` (REV)
 * gives, so a partition's local top-K is exact and the merge needs no extra reads.
 */
import type { Order } from './types.js';

export interface RankedEntry {
  rank: number;
  userId: string;
  score: number;
}

export interface Scored {
  userId: string;
  score: number;
}

/** Compares user ids by their UTF-8 bytes, as Redis orders sorted-set members. */
export function compareUserIds(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A comparator that sorts entries in board order (best first). */
export function boardComparator(order: Order): (a: Scored, b: Scored) => number {
  return order === 'desc'
    ? (a, b) => b.score - a.score || compareUserIds(b.userId, a.userId)
    : (a, b) => a.score - b.score || compareUserIds(a.userId, b.userId);
}

/**
 * Sorts entries in board order and gives them competition ranks.
 *
 * @example
 * rank([{ userId: 'a', score: 5 }, { userId: 'b', score: 7 }, { userId: 'c', score: 5 }], 'desc');
 * // [{rank 1, b, 7}, {rank 2, c, 5}, {rank 2, a, 5}]
 */
export function rank(
  entries: readonly Scored[],
  order: Order,
  limit = Number.POSITIVE_INFINITY,
): RankedEntry[] {
  const sorted = [...entries].sort(boardComparator(order)).slice(0, limit);
  const ranked: RankedEntry[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const { userId, score } = sorted[i]!;
    const previous = ranked[i - 1];
    ranked.push({ rank: previous && previous.score === score ? previous.rank : i + 1, userId, score });
  }
  return ranked;
}

/** True when a score would be placed at or before `threshold` in board order. */
export function reaches(score: number, threshold: number, order: Order): boolean {
  return order === 'desc' ? score >= threshold : score <= threshold;
}
