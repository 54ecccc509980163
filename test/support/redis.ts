/**
 * Per-test Redis access: a client on the run's server and a fresh random prefix, so that tests
 * running side by side never see each other's keys. Keys are removed after each test. Tests on a
 * Redis Cluster get the run's shared cluster from `sharedClusterSeeds()`.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { waitForCluster } from './redisCluster.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A new ioredis client on the test server. Close it with `quit()`. */
export function connect(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 3 });
}

/** A random name for a stream family, unique to one test. */
export function uniqueName(label = 't'): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}

/** Deletes every key whose name contains the given family name (hash tag included). */
export async function dropKeys(redis: Redis, name: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${name}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * Seeds of the run's shared Redis Cluster (`REDIS_CLUSTER`, or the one the global setup starts),
 * once it is healthy. For tests that only use their own keys; drills start their own cluster.
 *
 * @example
 * const cluster = connectCluster(await sharedClusterSeeds());
 */
export async function sharedClusterSeeds(): Promise<string[]> {
  const seeds = inject('redisClusterSeeds');
  await waitForCluster(seeds, 40_000);
  return seeds;
}
