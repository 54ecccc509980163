/**
 * What this package needs to know of a Redis Cluster: whether a client is one, which node serves
 * a slot (from the client's own slot table, the way ioredis routes), and which master serves each
 * partition of a family (for planning where partitions live).
 */
import type { Cluster, Redis } from 'ioredis';
import { partitionTag } from './keys.js';
import { keySlot } from './slots.js';

/**
 * True for an ioredis `Cluster` client.
 *
 * @example
 * if (isCluster(redis)) console.table(await partitionShards(redis, { name: 'lb', partitions: 16 }));
 */
export function isCluster(redis: Redis | Cluster): redis is Cluster {
  return redis.isCluster === true;
}

export interface NodeAddress {
  host: string;
  port: number;
}

/**
 * The address a cluster client would send a command for this slot to: the slot's master in the
 * client's slot table (already mapped by its `natMap`), or undefined before the client knows the
 * cluster's layout.
 */
export function masterOfSlot(cluster: Cluster, slot: number): NodeAddress | undefined {
  const key = cluster.slots[slot]?.[0];
  return key === undefined ? undefined : parseAddress(key);
}

/** The address of a `MOVED`/`ASK` redirection (`host:port`), mapped by the client's `natMap`. */
export function redirectedAddress(cluster: Cluster, address: string): NodeAddress {
  const natMap = cluster.options.natMap;
  const mapped = typeof natMap === 'function' ? natMap(address) : natMap?.[address];
  return mapped ? { host: mapped.host, port: mapped.port } : parseAddress(address);
}

export interface PartitionShard {
  partition: number;
  /** The partition's hash tag (`partitionTag`). */
  tag: string;
  slot: number;
  /** The master serving the slot, `host:port` as the cluster announces it. */
  master: string;
  /** Its replicas, `host:port`. */
  replicas: string[];
}

/**
 * Which master (and replicas) serve each partition of a family, from a fresh `CLUSTER SLOTS`.
 * With the package's tags, P partitions spread evenly over equal slot ranges (see
 * `partitionSlot`).
 *
 * @example
 * const shards = await partitionShards(cluster, { name: 'lb', partitions: 16 });
 * console.table(shards.map((s) => ({ partition: s.partition, master: s.master })));
 */
export async function partitionShards(
  cluster: Cluster,
  options: { name: string; partitions: number },
): Promise<PartitionShard[]> {
  type Node = [host: string, port: number, ...rest: unknown[]];
  const ranges = (await cluster.cluster('SLOTS')) as unknown as [number, number, Node, ...Node[]][];
  return Array.from({ length: options.partitions }, (_, partition) => {
    const tag = partitionTag(options.name, partition);
    const slot = keySlot(tag);
    const range = ranges.find(([start, end]) => start <= slot && slot <= end);
    if (!range) throw new Error(`no node of the cluster serves slot ${slot} (partition ${partition})`);
    const [, , master, ...replicas] = range;
    return {
      partition,
      tag,
      slot,
      master: `${master[0]}:${master[1]}`,
      replicas: replicas.map((r) => `${r[0]}:${r[1]}`),
    };
  });
}

function parseAddress(address: string): NodeAddress {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
