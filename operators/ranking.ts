/**
 * The order and tie rules of a ranking, in one place for the merge, the stores' reads and the
 * tests' models.
 *
 * Order: by score, descending or ascending per group. Ties (`member`, the default): equal scores
 * share a rank (competition ranking: 1, 2, 2, 4) and are listed in Redis sorted-set order, by
 * member id bytes, descending on `desc` groups and ascending on `asc` ones: the order `ZRANGE`
 * (`REV`) gives, so a partition's local top-K is exact and the merge needs no extra reads.
 * Ties (`earliest`): ordered by the event time that set each score, earlier first, then by member
 * id bytes ascending; every rank is unique.
 */
import type { Order, RankedEntry, TieBreak } from './types.js';

/** A member's score, with the event time that set it when the tie rule needs it. */
export interface Scored {
  member: string;
  score: number;
  /** Event time of the record that set the score (`earliest` ties). */
  ts?: number;
}

/** Compares member ids by their UTF-8 bytes, as Redis orders sorted-set members. */
export function compareMembers(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * A comparator that sorts entries best first.
 *
 * @example
 * entries.sort(rankingComparator('desc', 'member'));
 */
export function rankingComparator(
  order: Order,
  tieBreak: TieBreak = 'member',
): (a: Scored, b: Scored) => number {
  const byScore =
    order === 'desc'
      ? (a: Scored, b: Scored) => b.score - a.score
      : (a: Scored, b: Scored) => a.score - b.score;
  if (tieBreak === 'earliest') {
    return (a, b) => byScore(a, b) || (a.ts ?? 0) - (b.ts ?? 0) || compareMembers(a.member, b.member);
  }
  return order === 'desc'
    ? (a, b) => byScore(a, b) || compareMembers(b.member, a.member)
    : (a, b) => byScore(a, b) || compareMembers(a.member, b.member);
}

/**
 * Sorts entries best first and gives them ranks: competition ranks under the `member` tie rule,
 * unique ones under `earliest`.
 *
 * @example
 * rank([{ member: 'a', score: 5 }, { member: 'b', score: 7 }, { member: 'c', score: 5 }], 'desc');
 * // [{rank 1, b, 7}, {rank 2, c, 5}, {rank 2, a, 5}]
 */
export function rank(
  entries: readonly Scored[],
  order: Order,
  limit = Number.POSITIVE_INFINITY,
  tieBreak: TieBreak = 'member',
): RankedEntry[] {
  const sorted = [...entries].sort(rankingComparator(order, tieBreak)).slice(0, limit);
  const ranked: RankedEntry[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const { member, score } = sorted[i]!;
    const previous = ranked[i - 1];
    const shared = tieBreak === 'member' && previous !== undefined && previous.score === score;
    ranked.push({ rank: shared ? previous.rank : i + 1, member, score });
  }
  return ranked;
}

/** True when a score would be placed at or before `threshold` in board order. */
export function reaches(score: number, threshold: number, order: Order): boolean {
  return order === 'desc' ? score >= threshold : score <= threshold;
}
