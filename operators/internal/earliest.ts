/**
 * The sorted-set layout of groups whose ties go to who reached the score first (`earliest`), as
 * `applyEarliest.lua` writes it: member "<event time, 15 digits><member>", score negated on `desc`
 * groups, so that ascending order is the ranking.
 */
import type { Order } from '../types.js';

export const EARLIEST_DIGITS = 15;

/**
 * @example
 * earliestMember(1763856000000, 'ann'); // '001763856000000ann'
 */
export function earliestMember(ts: number | string, member: string): string {
  const text = String(ts);
  return '0'.repeat(EARLIEST_DIGITS - text.length) + text + member;
}

/** The member and event time of a stored entry. */
export function parseEarliest(stored: string): { member: string; ts: number } {
  return { member: stored.slice(EARLIEST_DIGITS), ts: Number(stored.slice(0, EARLIEST_DIGITS)) };
}

/** A stored score as the group's score (and back: the negation is its own inverse). */
export function earliestScore(stored: number, order: Order): number {
  return order === 'desc' ? -stored || 0 : stored;
}
