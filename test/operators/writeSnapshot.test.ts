/**
 * A snapshot merged from older reads never replaces one merged from newer reads: the rule that
 * keeps the tops exact when several processes merge them at once (`writeSnapshot-1.lua`).
 */
import { Redis } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineOperatorScripts } from '../../operators/scripts.js';
import { scoresKey, snapshotChannel, snapshotKey, stateGenerationKey } from '../../operators/stateKeys.js';
import { refreshSnapshot } from '../../operators/topK.js';
import type { BoardConfig } from '../../operators/types.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

describe('writeSnapshot', () => {
  let redis: Redis;
  let name: string;
  beforeEach(() => {
    redis = new Redis(redisUrl());
    defineOperatorScripts(redis);
    name = uniqueName('ws');
  });
  afterEach(async () => {
    await dropKeys(redis, name);
    await redis.quit();
  });

  const write = (entries: string, seen: string) =>
    redis.writeSnapshot(
      snapshotKey(name, 'b', 'all:0'),
      snapshotChannel(name),
      'b',
      'all:0',
      entries,
      '1',
      '0',
      seen,
    );
  const stored = () => redis.hget(snapshotKey(name, 'b', 'all:0'), 'entries');

  it('writes a merge that saw at least as much, keeps the stored one otherwise, and says why', async () => {
    expect(await write('"first"', '0/5-0,7-0')).toEqual([1, 1]);
    expect(await write('"newer"', '0/6-0,7-0')).toEqual([1, 2]);
    expect(await write('"older"', '0/5-0,7-0')).toEqual([0, 'covered']);
    expect(await write('"crossed"', '0/5-0,8-0')).toEqual([0, 'crossed']);
    expect(await write('"same"', '0/6-0,7-0')).toEqual([1, 3]);
    expect(await stored()).toBe('"same"');
  });

  it('refreshSnapshot records the state generation and the checkpoint of every partition it read', async () => {
    await redis.set(stateGenerationKey(name), '3');
    await redis.hset(partitionKeys(name, 1).checkpoint, 'id', '17-2');
    await redis.zadd(scoresKey(name, 1, 'b', 'all:0'), 5, 'ann');
    const board: BoardConfig = {
      id: 'b',
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 10,
      graceSeconds: 0,
      retentionDays: 1,
    };
    const result = await refreshSnapshot({ redis, name, partitions: 3 }, board, 'all', 0);
    expect(result.written && result.snapshot.entries).toEqual([{ rank: 1, userId: 'ann', score: 5 }]);
    expect(await redis.hget(snapshotKey(name, 'b', 'all:0'), 'seen')).toBe('3/0-0,17-2,0-0');
  });

  it('orders by the state generation first: a merge from before a replay swapped state is stale', async () => {
    expect(await write('"after the swap"', '1/5-0,7-0')).toEqual([1, 1]);
    expect(await write('"before the swap"', '0/9-0,9-0')).toEqual([0, 'crossed']);
    expect(await write('"before, older"', '0/5-0,7-0')).toEqual([0, 'covered']);
    expect(await stored()).toBe('"after the swap"');
  });
});
