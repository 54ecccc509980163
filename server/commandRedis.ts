/**
 * The Redis an operations command (`leaderboard replay`, `dlq`, `verify`, `cluster plan`) works
 * on: the configured one (REDIS_URL, REDIS_CLUSTER or REDIS_SENTINELS) when given; else the
 * private redis-server of a running `npm start` (its URL is recorded under DATA_DIR); else that
 * private server is started for the command's duration, on the same data.
 */
import { type Cluster, Redis } from 'ioredis';
import type { Config } from './config.js';
import { recordedPrivateRedisUrl, startPrivateRedis } from './privateRedis.js';
import { connectRedis, hasRedis, redisTarget } from './redisConnection.js';

export interface CommandRedis {
  redis: Redis | Cluster;
  /** Where the connection goes, for the command's first line. */
  source: string;
  close(): Promise<void>;
}

export async function redisForCommand(config: Config): Promise<CommandRedis> {
  if (hasRedis(config)) return connected(config, undefined, redisTarget(config));
  const recorded = recordedPrivateRedisUrl(config.DATA_DIR);
  if (recorded) {
    const probe = new Redis(recorded, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const alive = await probe.connect().then(
      () => probe.ping().then(() => true),
      () => false,
    );
    probe.disconnect();
    if (alive) return connected(config, recorded, `the running service's redis-server (${recorded})`);
  }
  const server = await startPrivateRedis(config.DATA_DIR, config.APPENDFSYNC);
  const command = await connected(
    config,
    server.url,
    `a private redis-server on ${config.DATA_DIR} (${server.url})`,
  );
  return {
    ...command,
    async close() {
      await command.close();
      await server.stop();
    },
  };
}

async function connected(config: Config, url: string | undefined, source: string): Promise<CommandRedis> {
  const redis = connectRedis(config, url ?? config.REDIS_URL);
  await redis.ping();
  return {
    redis,
    source,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
