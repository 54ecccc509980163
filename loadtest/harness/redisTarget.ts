/**
 * The Redis a benchmark run measures: the server at `REDIS_URL`, or else a private
 * `redis-server` started for the run (no persistence, its own temporary directory) and stopped
 * at the end, also on Ctrl-C.
 */
import { Redis } from 'ioredis';
import { type RedisServerHandle, startRedisServer } from '../../server/redisServerProcess.js';

export interface RedisTarget {
  url: string;
  /** `private redis-server` or `REDIS_URL`. */
  origin: string;
  version: string;
  stop(): Promise<void>;
}

export async function openRedisTarget(url = process.env.REDIS_URL): Promise<RedisTarget> {
  let server: RedisServerHandle | undefined;
  if (!url) {
    server = await startRedisServer();
    const stopOnSignal = (signal: NodeJS.Signals) => {
      void server?.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
  }
  const target = server?.url ?? url!;
  let version: string;
  try {
    version = await serverVersion(target);
  } catch (error) {
    await server?.stop();
    throw error;
  }
  return {
    url: target,
    origin: server ? 'private redis-server' : 'REDIS_URL',
    version,
    stop: async () => {
      await server?.stop();
    },
  };
}

async function serverVersion(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    redis.disconnect();
  }
}
