import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedClusterSeeds } from '../../test/support/redis.js';
import { connectCluster } from '../../test/support/redisCluster.js';
import {
  keySlot,
  partitionKeys,
  partitionShards,
  partitionSlot,
  partitionTag,
  SLOT_COUNT,
} from '../src/index.js';

/** How many of these slots fall in each of `masters` equal ranges, as `redis-cli --cluster create` splits them. */
function perMaster(slots: number[], masters: number): number[] {
  const counts = new Array<number>(masters).fill(0);
  for (const slot of slots) {
    const index = Array.from({ length: masters }, (_, i) => i).find(
      (i) => slot < Math.floor(((i + 1) * SLOT_COUNT) / masters),
    )!;
    counts[index]!++;
  }
  return counts;
}

describe('slots and partition tags', () => {
  let node: Redis;
  let seeds: string[];
  beforeAll(async () => {
    seeds = await sharedClusterSeeds();
    const [host, port] = seeds[0]!.split(':');
    node = new Redis({ host, port: Number(port) });
  });
  afterAll(() => node.disconnect());

  it('computes the slot of any key as CLUSTER KEYSLOT does (hash tags, empty tags, braces, UTF-8)', async () => {
    const piece = fc.oneof(fc.string(), fc.constantFrom('{', '}', '{}', 'é', '中', '🏆'));
    const keys = fc.sample(
      fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')),
      300,
    );
    keys.push('', '{}', '{}{a}', '{a}{b}', 'a{b', 'a}b{c}', '{lb:7.1953}:in', '123456789');
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.cluster('KEYSLOT', key);
    const replies = (await pipeline.exec())!.map(([error, slot]) => {
      if (error) throw error;
      return Number(slot);
    });
    expect(keys.map(keySlot)).toEqual(replies);
  });

  it('puts partition p in the slot of the 14-bit bit-reversal of p, every key of it in the same slot', async () => {
    expect(Array.from({ length: 8 }, (_, p) => partitionSlot(p))).toEqual([
      0, 8192, 4096, 12288, 2048, 10240, 6144, 14336,
    ]);
    const partitions = 64;
    const keys = Array.from({ length: partitions }, (_, p) => Object.values(partitionKeys('lb', p)));
    const pipeline = node.pipeline();
    for (const key of keys.flat()) pipeline.cluster('KEYSLOT', key);
    const slots = (await pipeline.exec())!.map(([, slot]) => Number(slot));
    for (let p = 0; p < partitions; p++) {
      const own = slots.slice(p * keys[0]!.length, (p + 1) * keys[0]!.length);
      expect(new Set(own)).toEqual(new Set([partitionSlot(p)]));
      expect(partitionTag('lb', p)).toMatch(new RegExp(`^\\{lb:${p}\\.\\d+\\}$`));
    }
    expect(new Set(slots).size).toBe(partitions);
    // Another family gets its own tags, in the same slots.
    expect(partitionTag('orders', 5)).not.toBe(partitionTag('lb', 5));
    expect(keySlot(partitionTag('orders', 5))).toBe(partitionSlot(5));
  });

  it('spreads 16 partitions 6/5/5 over 3 equal masters and exactly over 2 and 4 (the {name:p} tags gave 4/4/8)', () => {
    const slots = Array.from({ length: 16 }, (_, p) => keySlot(partitionTag('lb', p)));
    expect(perMaster(slots, 3)).toEqual([6, 5, 5]);
    expect(perMaster(slots, 2)).toEqual([8, 8]);
    expect(perMaster(slots, 4)).toEqual([4, 4, 4, 4]);
    const plain = Array.from({ length: 16 }, (_, p) => keySlot(`{lb:${p}}`));
    expect(perMaster(plain, 3)).toEqual([4, 4, 8]);
    // Any number of partitions spreads evenly over 2 or 4 masters, and nearly so over 3.
    for (let partitions = 1; partitions <= 64; partitions++) {
      const own = Array.from({ length: partitions }, (_, p) => partitionSlot(p));
      for (const masters of [2, 4]) {
        const counts = perMaster(own, masters);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
      const three = perMaster(own, 3);
      expect(Math.max(...three) - Math.min(...three)).toBeLessThanOrEqual(4);
    }
  });

  it('tells which master of a cluster serves each partition', async () => {
    const cluster = connectCluster(seeds);
    try {
      const shards = await partitionShards(cluster, { name: 'lb', partitions: 16 });
      const ranges = (await cluster.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      expect(shards.map((s) => s.partition)).toEqual(Array.from({ length: 16 }, (_, p) => p));
      for (const shard of shards) {
        expect(shard.tag).toBe(partitionTag('lb', shard.partition));
        expect(shard.slot).toBe(partitionSlot(shard.partition));
        const range = ranges.find(([start, end]) => start <= shard.slot && shard.slot <= end)!;
        expect(shard.master).toBe(`${range[2][0]}:${range[2][1]}`);
        expect(shard.replicas).toHaveLength(1);
      }
      const counts = new Map<string, number>();
      for (const shard of shards) counts.set(shard.master, (counts.get(shard.master) ?? 0) + 1);
      expect([...counts.values()].sort()).toEqual([5, 5, 6]);
    } finally {
      cluster.disconnect();
    }
  });
});
