/**
 * The key layout of a partitioned stream family. Every key of partition `p` of family `name`
 * carries the partition's hash tag `{name:p.s}`, so a script can touch all of them atomically,
 * and on Redis Cluster each partition lives in one slot. The suffix `s` is chosen so that the
 * partitions' slots spread evenly over the 16384 slots (see `partitionTag`), and with them over
 * the masters of a cluster, whatever the number of partitions.
 */
import { crc16, crc16Byte, SLOT_COUNT } from './slots.js';

export interface PartitionKeys {
  /** The partition's input stream. */
  stream: string;
  /** The partition's lease, value `<epoch>:<owner>`, expiring. */
  lease: string;
  /** The partition's epoch counter, incremented by each new lease. */
  epoch: string;
  /** The partition's dead-letter stream. */
  dlq: string;
  /** The partition's checkpoint hash (field `id`: last applied entry id). */
  checkpoint: string;
  /** Ids of the partition's entries that were dead-lettered and re-driven as new entries. */
  redriven: string;
}

/**
 * Names the keys of one partition.
 *
 * @example
 * partitionKeys('lb', 7).stream; // '{lb:7.1953}:in'
 */
export function partitionKeys(name: string, partition: number): PartitionKeys {
  const tag = partitionTag(name, partition);
  return {
    stream: `${tag}:in`,
    lease: `${tag}:lease`,
    epoch: `${tag}:epoch`,
    dlq: `${tag}:dlq`,
    checkpoint: `${tag}:ckpt`,
    redriven: `${tag}:redriven`,
  };
}

const SLOT_BITS = 14;
const tags = new Map<string, string>();

/**
 * The slot partition `p` is placed in: the 14-bit bit-reversal of `p` (a van der Corput
 * sequence: 0, 8192, 4096, 12288, 2048, ...). Every prefix of the sequence is spread evenly over
 * the slot space, so any number of partitions divides evenly over equal slot ranges: 16
 * partitions give 6/5/5 over the 3 masters of `redis-cli --cluster create`, 8/8 over 2, 4 each
 * over 4. (`{lb:0}` .. `{lb:15}`, the hash tags this package used before, gave 4/4/8.)
 *
 * @example
 * partitionSlot(1); // 8192
 */
export function partitionSlot(partition: number): number {
  let p = partition % SLOT_COUNT;
  let slot = 0;
  for (let bit = 0; bit < SLOT_BITS; bit++) {
    slot = (slot << 1) | (p & 1);
    p >>= 1;
  }
  return slot;
}

/**
 * The hash tag shared by every key of a partition: `{name:p.s}` with the smallest suffix `s`
 * whose CRC16 slot is `partitionSlot(p)`. Applications put their own per-partition keys under it
 * to update them atomically with the stream. Computed once per family and partition (about
 * 16,000 checksums of a few bytes, a fraction of a millisecond), then remembered.
 *
 * @example
 * partitionTag('lb', 7); // '{lb:7.1953}', in slot partitionSlot(7) = 14336
 */
export function partitionTag(name: string, partition: number): string {
  const memo = `${name}\u0000${partition}`;
  let tag = tags.get(memo);
  if (tag === undefined) {
    tag = searchTag(name, partition);
    tags.set(memo, tag);
  }
  return tag;
}

function searchTag(name: string, partition: number): string {
  const target = partitionSlot(partition);
  const prefix = `${name}:${partition}.`;
  // CRC16 runs over the bytes in order: the prefix's checksum is computed once, and the suffixes
  // of each length are walked as a tree of digits, one table step per digit, in numeric order.
  const start = crc16(Buffer.from(prefix, 'utf8'));
  for (let length = 1; ; length++) {
    const suffix = digitsHitting(start, target, length, length === 1);
    if (suffix !== undefined) return `{${prefix}${suffix}}`;
  }
}

const ZERO = 0x30;

/** The smallest number of `length` digits (no leading zero but for `0` itself) that hits `target`. */
function digitsHitting(crc: number, target: number, length: number, zeroFirst: boolean): string | undefined {
  for (let d = zeroFirst ? 0 : 1; d <= 9; d++) {
    const next = crc16Byte(crc, ZERO + d);
    if (length === 1) {
      if (next % SLOT_COUNT === target) return String(d);
    } else {
      const rest = digitsHitting(next, target, length - 1, true);
      if (rest !== undefined) return `${d}${rest}`;
    }
  }
  return undefined;
}

/** The sorted set of live consumers of a family (one slot of its own). */
export function membersKey(name: string, group: string): string {
  return `{${name}}:members:${group}`;
}

/** The fencing token that lease-checking scripts compare with the lease's value. */
export function leaseToken(epoch: number, owner: string): string {
  return `${epoch}:${owner}`;
}
