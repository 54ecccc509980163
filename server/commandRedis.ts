/**
 * The Redis an operations command (`leaderboard replay`, `leaderboard dlq`) works on: REDIS_URL
 * when given; else the private redis-server of a running `npm start` (its URL is recorded under
 * DATA_DIR); else that private server is started for the command's duration, on the same data.
 */
import { Redis } from 'ioredis';
import type { Config } from './config.js';
import { recordedPrivateRedisUrl, startPrivateRedis } from './privateRedis.js';

export interface CommandRedis {
  redis: Redis;
  /** Where the connection goes, for the command's first line. */
  source: string;
  close(): Promise<void>;
}

export async function redisForCommand(config: Config): Promise<CommandRedis> {
  if (config.REDIS_URL) return connected(config.REDIS_URL, `REDIS_URL ${config.REDIS_URL}`);
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
    if (alive) return connected(recorded, `the running service's redis-server (${recorded})`);
  }
  const server = await startPrivateRedis(config.DATA_DIR, config.APPENDFSYNC);
  const command = await connected(server.url, `a private redis-server on ${config.DATA_DIR} (${server.url})`);
  return {
    ...command,
    async close() {
      await command.close();
      await server.stop();
    },
  };
}

async function connected(url: string, source: string): Promise<CommandRedis> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  await redis.ping();
  return {
    redis,
    source,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
