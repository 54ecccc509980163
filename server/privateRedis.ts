/**
 * The private `redis-server` of `npm start` when no REDIS_URL is given: a child process with AOF
 * on (the event log must survive a restart), data under `<DATA_DIR>/redis`, stopped on exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  options: { detached?: boolean } = {},
): Promise<RedisServerHandle> {
  if (!redisServerInstalled()) throw new RedisNotInstalledError();
  const dir = resolve(join(dataDir, 'redis'));
  mkdirSync(dir, { recursive: true });
  const handle = await startRedisServer({
    dir,
    args: ['--appendonly', 'yes', '--appendfsync', appendfsync, '--appenddirname', 'appendonly'],
    detached: options.detached ?? false,
  });
  // Other commands (`leaderboard replay`, `dlq`) find the running server through this file.
  const urlFile = join(dir, URL_FILE);
  writeFileSync(urlFile, handle.url);
  return {
    ...handle,
    async stop(signal) {
      rmSync(urlFile, { force: true });
      await handle.stop(signal);
    },
  };
}

const URL_FILE = 'url';

/** The URL of the private redis-server a running `npm start` recorded under `dataDir`, if any. */
export function recordedPrivateRedisUrl(dataDir: string): string | undefined {
  try {
    return readFileSync(join(resolve(dataDir), 'redis', URL_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
