/**
 * The private `redis-server` of `npm start` when no REDIS_URL is given: a child process with AOF
 * on (the event log must survive a restart), data under `<DATA_DIR>/redis`, stopped on exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type RedisServerHandle, startRedisServer } from './redisServerProcess.js';

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      [
        'redis-server is not installed, and no REDIS_URL was given.',
        'Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis),',
        'or point the service at a running Redis: REDIS_URL=redis://host:6379 npm start',
      ].join('\n'),
    );
    this.name = 'RedisNotInstalledError';
  }
}

export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * @example
 * const redis = await startPrivateRedis('./data', 'everysec');
 * // ... redis.url ...
 * await redis.stop();
 */
export async function startPrivateRedis(
  dataDir: string,
  appendfsync: 'always' | 'everysec' | 'no',
): Promise<RedisServerHandle> {
  if (!redisServerInstalled()) throw new RedisNotInstalledError();
  const dir = resolve(join(dataDir, 'redis'));
  mkdirSync(dir, { recursive: true });
  return startRedisServer({
    dir,
    args: ['--appendonly', 'yes', '--appendfsync', appendfsync, '--appenddirname', 'appendonly'],
  });
}
