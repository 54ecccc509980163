/**
 * Key names matching a pattern, on one server or on every master of a Redis Cluster (SCAN walks
 * one node's keyspace only). For operations tools, never for a request's path.
 */
import { Cluster, type Redis } from 'ioredis';

/**
 * @example
 * const snapshots = await scanKeys(redis, 'lb:snap:global:day:*');
 */
export async function scanKeys(redis: Redis | Cluster, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.add(key);
    } while (cursor !== '0');
  }
  return [...found];
}
