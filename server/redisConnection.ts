/**
 * The service's Redis connection, from the configuration: one server (`REDIS_URL`), a Redis
 * Cluster (`REDIS_CLUSTER`, its seed nodes), or a primary managed by Sentinel (`REDIS_SENTINELS`,
 * `REDIS_SENTINEL_NAME`), with `REDIS_USERNAME`, `REDIS_PASSWORD` and `REDIS_TLS` for the last two.
 * Nothing home-made stands in for Redis' own clustering and failover: ioredis' Cluster client
 * follows slots and promotions, its Sentinel support follows the primary.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config.js';

/** What kind of deployment a configuration names, for logs and `cluster plan`. */
export function redisTarget(config: Config): string {
  if (config.REDIS_CLUSTER)
    return `Redis Cluster ${config.REDIS_CLUSTER.map((n) => `${n.host}:${n.port}`).join(',')}`;
  if (config.REDIS_SENTINELS) return `Sentinel-managed primary '${config.REDIS_SENTINEL_NAME}'`;
  return `REDIS_URL ${config.REDIS_URL ?? '(private redis-server)'}`;
}

/** Whether the configuration names a Redis of its own (else `npm start` starts a private one). */
export function hasRedis(config: Config): boolean {
  return Boolean(config.REDIS_URL || config.REDIS_CLUSTER || config.REDIS_SENTINELS);
}

/**
 * The connection the service shares; every other connection of the process is a duplicate of it.
 *
 * @example
 * const redis = connectRedis(loadConfig());
 */
export function connectRedis(
  config: Config,
  url = config.REDIS_URL,
  options: RedisOptions = {},
): Redis | Cluster {
  const auth: RedisOptions = {
    ...(config.REDIS_USERNAME ? { username: config.REDIS_USERNAME } : {}),
    ...(config.REDIS_PASSWORD ? { password: config.REDIS_PASSWORD } : {}),
    ...(config.REDIS_TLS ? { tls: {} } : {}),
  };
  const common: RedisOptions = { maxRetriesPerRequest: 2, ...options };
  if (config.REDIS_CLUSTER) {
    return new Cluster(config.REDIS_CLUSTER, {
      redisOptions: { ...auth, ...common },
      // A read whose shard is down fails within the command timeout (503) instead of waiting.
      enableOfflineQueue: true,
      slotsRefreshTimeout: 2000,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    });
  }
  if (config.REDIS_SENTINELS) {
    return new Redis({
      ...auth,
      ...common,
      sentinels: config.REDIS_SENTINELS,
      name: config.REDIS_SENTINEL_NAME,
      ...(config.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: config.REDIS_SENTINEL_PASSWORD } : {}),
      ...(config.REDIS_TLS ? { enableTLSForSentinelMode: true } : {}),
    });
  }
  if (!url) throw new Error('no Redis configured: set REDIS_URL, REDIS_CLUSTER or REDIS_SENTINELS');
  return new Redis(url, common);
}
