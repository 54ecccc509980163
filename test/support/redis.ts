/**
 * Per-test Redis access: a client on the run's server and a fresh random prefix, so that tests
 * running side by side never see each other's keys. Keys are removed after each test.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

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
