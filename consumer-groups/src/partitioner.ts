/**
 * Stable partitioning: the same key maps to the same partition in every process and release, so
 * a user's events always meet in one partition, in order.
 */

/**
 * 32-bit FNV-1a over the key's UTF-16 code units; stable, fast, well spread for short ids.
 *
 * @example
 * stableHash('user-42'); // same number everywhere, forever
 */
export function stableHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The partition of a key: `stableHash(key) mod partitions`.
 *
 * @example
 * partitionFor('user-42', 16); // 0..15
 */
export function partitionFor(key: string, partitions: number): number {
  return stableHash(key) % partitions;
}
