/**
 * A snapshot merged from older reads never replaces one merged from newer reads: the rule that
 * keeps the tops exact when several processes merge them at once (`writeSnapshot-1.lua`). What a
 * merge read is the state revision of each partition (`rev` of its checkpoint hash), which every
 * applied batch and every replay swap bumps.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineOperatorScripts } from '../../operators/internal/scripts.js';
import { snapshotChannel, snapshotKey, stateKeys } from '../../operators/stateKeys.js';
import { refreshSnapshot } from '../../operators/topK.js';
import type { GroupSpec } from '../../operators/types.js';
import { ALL_TIME } from '../support/applyHarness.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const SPEC: GroupSpec = {
  reduce: 'sum',
  windows: [ALL_TIME.definition],
  order: 'desc',
  k: 10,
  tieBreak: 'member',
  retentionMs: 86_400_000,
};

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
      snapshotChannel(name, 'b'),
      'all:0',
      entries,
      '1',
      '0',
      seen,
    );
  const stored = () => redis.hget(snapshotKey(name, 'b', 'all:0'), 'entries');

  it('writes a merge that saw at least as much, keeps the stored one otherwise, and says why', async () => {
    expect(await write('"first"', '5,7')).toEqual([1, 1]);
    expect(await write('"newer"', '6,7')).toEqual([1, 2]);
    expect(await write('"older"', '5,7')).toEqual([0, 'covered']);
    expect(await write('"crossed"', '5,8')).toEqual([0, 'crossed']);
    expect(await write('"same"', '6,7')).toEqual([1, 3]);
    expect(await stored()).toBe('"same"');
  });

  it('keeps snapshots in the group’s own slot and announces each version on its sharded channel', async () => {
    expect(snapshotKey(name, 'b', 'all:0')).toBe(`{${name}:snap:b}:all:0`);
    expect(snapshotChannel(name, 'b')).toBe(`{${name}:snap:b}:announce`);
    const subscriber = redis.duplicate();
    try {
      const messages: [string, string][] = [];
      subscriber.on('smessage', (channel: string, message: string) => messages.push([channel, message]));
      await subscriber.ssubscribe(snapshotChannel(name, 'b'));
      await write('"first"', '1');
      await write('"older"', '0');
      await write('"second"', '2');
      await redis.ping(); // the announcements were sent before this reply
      await subscriber.ping();
      expect(messages).toEqual([
        [snapshotChannel(name, 'b'), 'all:0 1'],
        [snapshotChannel(name, 'b'), 'all:0 2'],
      ]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('refreshSnapshot records the state revision of every partition it read', async () => {
    await redis.hset(stateKeys(name, 1).checkpoint, 'id', '17-2', 'rev', '17');
    await redis.zadd(stateKeys(name, 1).scores('b', 'all:0'), 5, 'ann');
    const result = await refreshSnapshot({ redis, name, partitions: 3 }, 'b', ALL_TIME, SPEC);
    expect(result.written && result.snapshot.entries).toEqual([{ rank: 1, member: 'ann', score: 5 }]);
    expect(result.written && result.snapshot.version).toBe(1);
    expect(await redis.hget(snapshotKey(name, 'b', 'all:0'), 'seen')).toBe('0,17,0');
    // A merge of a state older than the stored snapshot's is not written.
    await redis.hset(snapshotKey(name, 'b', 'all:0'), 'seen', '0,18,0');
    expect(await refreshSnapshot({ redis, name, partitions: 3 }, 'b', ALL_TIME, SPEC)).toEqual({
      written: false,
      covered: true,
    });
  });

  it('a replay swap bumps the partition’s revision: a merge that read before the swap is stale', async () => {
    // Before the swap partition 1 was at revision 7; the swap makes it 8.
    expect(await write('"after the swap"', '5,8')).toEqual([1, 1]);
    expect(await write('"before the swap"', '9,7')).toEqual([0, 'crossed']);
    expect(await write('"before, older"', '5,7')).toEqual([0, 'covered']);
    expect(await stored()).toBe('"after the swap"');

    // The swap itself: finishReplay-n bumps `rev` in the same step as it renames the shadow in.
    const keys = stateKeys(name, 1);
    await redis.hset(keys.checkpoint, 'id', '3-0', 'rev', '7');
    const [registered] = await redis.registerReplay(
      keys.replay,
      keys.checkpoint,
      'r1',
      'b',
      ',all,',
      0,
      60_000,
    );
    expect(registered).toBe(1);
    const shadow = keys.shadow('r1');
    const all = [keys.replay, shadow.instances, keys.checkpoint, keys.dedupe('b'), shadow.dedupe('b')];
    expect(await redis.finishReplay(all.length, ...all, 'r1', 'swap')).toEqual([]);
    // Revisions follow the server clock (µs) when it is ahead of rev + 1 (bumpRevision.lua).
    expect(Number(await redis.hget(keys.checkpoint, 'rev'))).toBeGreaterThan(7);
  });
});
