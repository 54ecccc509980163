/**
 * Which consumer should own which partition: round-robin over the sorted live members, so every
 * member computes the same answer from the same member list and counts differ by at most one
 * (16 partitions over 3 consumers: 6, 5, 5).
 */

/**
 * The partitions a member should own.
 *
 * @example
 * assignedPartitions(['a', 'b', 'c'], 16, 'b'); // [1, 4, 7, 10, 13]
 */
export function assignedPartitions(
  sortedMembers: readonly string[],
  partitions: number,
  member: string,
): number[] {
  const index = sortedMembers.indexOf(member);
  if (index < 0) return [];
  const mine: number[] = [];
  for (let p = index; p < partitions; p += sortedMembers.length) mine.push(p);
  return mine;
}
