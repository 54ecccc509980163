/**
 * The key layout of a partitioned stream family. Every key of partition `p` of family `name`
 * carries the hash tag `{name:p}`, so a script can touch all of them atomically, and on Redis
 * Cluster each partition lives in one slot while partitions spread over the shards.
 */

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
 * partitionKeys('lb', 7).stream; // '{lb:7}:in'
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

/**
 * The hash tag shared by every key of a partition; applications put their own per-partition
 * keys under it to update them atomically with the stream.
 *
 * @example
 * partitionTag('lb', 7); // '{lb:7}'
 */
export function partitionTag(name: string, partition: number): string {
  return `{${name}:${partition}}`;
}

/** The sorted set of live consumers of a family (one slot of its own). */
export function membersKey(name: string, group: string): string {
  return `{${name}}:members:${group}`;
}

/** The fencing token that lease-checking scripts compare with the lease's value. */
export function leaseToken(epoch: number, owner: string): string {
  return `${epoch}:${owner}`;
}
