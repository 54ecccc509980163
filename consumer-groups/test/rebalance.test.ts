import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, dropKeys, uniqueName } from '../../test/support/redis.js';
import { assignedPartitions, Consumer } from '../src/index.js';
import { waitUntil } from './support.js';

describe('partition ownership by leases', () => {
  let redis: Redis;
  let name: string;
  const consumers: Consumer[] = [];
  beforeEach(() => {
    redis = connect();
    name = uniqueName('rb');
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
    await dropKeys(redis, name);
    await redis.quit();
  });

  function newConsumer(id: string): Consumer {
    const consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: 16,
      consumerId: id,
      leaseMs: 1500,
      heartbeatMs: 100,
      blockMs: 50,
    });
    consumers.push(consumer);
    return consumer;
  }

  it('spreads 16 partitions over 1, then 3, then 2 consumers, never giving a partition two owners', async () => {
    const overlaps: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const owners = new Map<number, string>();
        for (const consumer of consumers) {
          for (const partition of consumer.ownedPartitions().keys()) {
            const other = owners.get(partition);
            if (other) overlaps.push(`partition ${partition}: ${other} and ${consumer.id}`);
            owners.set(partition, consumer.id);
          }
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const counts = () => consumers.map((c) => c.ownedPartitions().size);
    const settledAt = (expected: number[]) =>
      waitUntil(
        () => JSON.stringify([...counts()].sort((a, b) => a - b)) === JSON.stringify(expected),
        20_000,
        `ownership ${expected.join('/')}, had ${counts().join('/')}`,
      );

    const a = newConsumer('a');
    await a.start();
    await settledAt([16]);

    const b = newConsumer('b');
    const c = newConsumer('c');
    await Promise.all([b.start(), c.start()]);
    await settledAt([5, 5, 6]);
    expect([...b.ownedPartitions().keys()].sort((x, y) => x - y)).toEqual(
      assignedPartitions(['a', 'b', 'c'], 16, 'b'),
    );

    await a.close();
    consumers.splice(consumers.indexOf(a), 1);
    await settledAt([8, 8]);

    sampling = false;
    await sampler;
    expect(overlaps).toEqual([]);
    const all = consumers.flatMap((x) => [...x.ownedPartitions().keys()]).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 16 }, (_, p) => p));
  });

  it('gives each new lease of a partition a higher epoch', async () => {
    const first = newConsumer('first');
    await first.start();
    await waitUntil(() => first.ownedPartitions().size === 16);
    const before = first.ownedPartitions();
    await first.close();
    consumers.splice(0);
    const second = newConsumer('second');
    await second.start();
    await waitUntil(() => second.ownedPartitions().size === 16);
    for (const [partition, epoch] of second.ownedPartitions()) {
      expect(epoch).toBeGreaterThan(before.get(partition)!);
    }
  });
});
