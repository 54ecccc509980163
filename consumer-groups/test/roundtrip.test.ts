import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, dropKeys, uniqueName } from '../../test/support/redis.js';
import { type Batch, Consumer, compareIds, Producer, partitionFor, partitionKeys } from '../src/index.js';

describe('produce and consume across 16 partitions', () => {
  let redis: Redis;
  let name: string;
  beforeEach(() => {
    redis = connect();
    name = uniqueName('rt');
  });
  afterEach(async () => {
    await dropKeys(redis, name);
    await redis.quit();
  });

  it('delivers every entry once, to the partition of its key, in order within each partition', async () => {
    const producer = new Producer(redis, { name, partitions: 16 });
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const sent: { key: string; seq: number }[] = [];
    for (let round = 0; round < 10; round++) {
      const records = users.map((key, i) => ({ key, fields: { seq: String(round * 1000 + i), key } }));
      const ids = await producer.append(records);
      expect(ids).toHaveLength(records.length);
      for (const r of records) sent.push({ key: r.key, seq: Number(r.fields.seq) });
    }

    const consumer = new Consumer(redis, { name, group: 'g', partitions: 16, leaseMs: 2000, batchSize: 100 });
    await consumer.start();
    const received: Batch[] = [];
    let count = 0;
    for await (const batch of consumer) {
      received.push(batch);
      await consumer.ack(batch);
      count += batch.entries.length;
      if (count >= sent.length) break;
    }

    expect(count).toBe(sent.length);
    const partitionsSeen = new Set(received.map((b) => b.partition));
    expect(partitionsSeen.size).toBe(16);
    const lastSeqOfKey = new Map<string, number>();
    const lastIdOfPartition = new Map<number, string>();
    for (const batch of received) {
      for (const entry of batch.entries) {
        const key = entry.fields.key!;
        expect(partitionFor(key, 16)).toBe(batch.partition);
        const seq = Number(entry.fields.seq);
        expect(seq).toBeGreaterThan(lastSeqOfKey.get(key) ?? -1);
        lastSeqOfKey.set(key, seq);
        const previous = lastIdOfPartition.get(batch.partition);
        if (previous) expect(compareIds(entry.id, previous)).toBe(1);
        lastIdOfPartition.set(batch.partition, entry.id);
      }
    }
    expect(lastSeqOfKey.size).toBe(users.length);
    const pending = await Promise.all(
      Array.from({ length: 16 }, (_, p) => redis.xpending(partitionKeys(name, p).stream, 'g')),
    );
    expect(pending.map((x) => Number((x as unknown[])[0]))).toEqual(new Array(16).fill(0));
  });

  it('trims entries older than the retention time, not by length', async () => {
    const producer = new Producer(redis, { name, partitions: 1, retentionMs: 50 });
    const stream = partitionKeys(name, 0).stream;
    // MINID ~ trims whole listpack nodes only, so write enough old entries to fill some.
    await producer.append(
      Array.from({ length: 400 }, (_, i) => ({ partition: 0, fields: { i: String(i) } })),
    );
    await new Promise((r) => setTimeout(r, 100));
    await producer.append([{ partition: 0, fields: { i: 'new' } }]);
    const length = await redis.xlen(stream);
    expect(length).toBeLessThan(401);
    const newest = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    expect(newest[0]?.[1]).toEqual(['i', 'new']);
  });

  it('rejects an out-of-range partition with a clear error', async () => {
    const producer = new Producer(redis, { name, partitions: 4 });
    await expect(producer.append([{ partition: 4, fields: { a: '1' } }])).rejects.toThrow(
      /partition must be/,
    );
    expect(() => new Consumer(redis, { name, group: 'g', partitions: 4, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new Producer(redis, { name: 'a{b', partitions: 4 })).toThrow(/name must be/);
    expect(() => new Producer(redis, { name, partitions: 4, retentionMs: Number.NaN })).toThrow(
      /retentionMs/,
    );
  });
});
