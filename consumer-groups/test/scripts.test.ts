import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { dropKeys, redisUrl, uniqueName } from '../../test/support/redis.js';
import { defineScripts, type ScriptSource } from '../src/index.js';

const echo = (name: string): ScriptSource => ({
  name,
  numberOfKeys: 1,
  lua: "return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1]) or false}",
});

describe('scripts defined on an auto-pipelining client', () => {
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('answers a script defined and called in a turn whose pipeline is already open, and every other command of that turn', async () => {
    const redis = new Redis(redisUrl(), { enableAutoPipelining: true });
    clients.push(redis);
    const name = uniqueName('sc');
    const key = `${name}:k`;
    await redis.set(key, 'v');
    // One turn: a command opens the turn's pipeline, then a script is defined and called in it.
    const before = redis.get(key);
    defineScripts(redis, [echo('echoLate')]);
    const scripted = (redis as unknown as Record<string, (...a: string[]) => Promise<unknown>>).echoLate!(
      key,
      'arg',
    );
    const after = redis.incr(`${name}:n`);
    expect(await Promise.all([before, scripted, after])).toEqual(['v', [key, 'arg', 'v'], 1]);
    // The next turns line up too (a misplaced callback would hand one command another's reply).
    expect(await Promise.all([redis.get(key), redis.incr(`${name}:n`)])).toEqual(['v', 2]);
    await dropKeys(redis, name);
  });

  it('refuses, on an auto-pipelining Cluster client, a script that takes its number of keys first', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], {
      lazyConnect: true,
      enableAutoPipelining: true,
    });
    const unrouted: ScriptSource = { name: 'anyKeys', numberOfKeys: undefined, lua: 'return 1' };
    expect(() => defineScripts(cluster, [unrouted])).toThrow(/anyKeys takes its number of keys first/);
    expect(() => defineScripts(cluster, [echo('echoRouted')])).not.toThrow();
  });
});
