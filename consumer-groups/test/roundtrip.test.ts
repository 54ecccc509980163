import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, dropKeys, uniqueName } from '../../test/support/redis.js';
import {
  type Batch,
  Consumer,
  compareIds,
  MAX_ENTRIES_PER_CALL,
  Producer,
  partitionFor,
  partitionKeys,
} from '../src/index.js';

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

  it('appends a one-record call (its own fast path) to the partition of its key, with retention', async () => {
    const producer = new Producer(redis, { name, partitions: 16 });
    const users = Array.from({ length: 64 }, (_, i) => `solo-${i}`);
    const ids: string[] = [];
    for (const key of users) {
      const [id] = await producer.append([{ key, fields: ['k', key] }]);
      ids.push(id!);
    }
    ids.push(await producer.appendOne({ partition: 3, fields: { k: 'explicit' } }));
    for (let p = 0; p < 16; p++) {
      const entries = (await redis.xrange(partitionKeys(name, p).stream, '-', '+')) as [string, string[]][];
      const expected = users.filter((u) => partitionFor(u, 16) === p);
      if (p === 3) expected.push('explicit');
      expect(entries.map(([, fields]) => fields[1])).toEqual(expected);
      for (const [id, fields] of entries)
        expect(ids[fields[1] === 'explicit' ? 64 : users.indexOf(fields[1]!)]).toBe(id);
    }
    await expect(producer.append([{ partition: 16, fields: { a: '1' } }])).rejects.toThrow(
      /partition must be/,
    );
    await expect(producer.appendOne({ fields: { a: '1' } })).rejects.toThrow(/key must be/);
  });

  it('appends many records per partition in script calls: ids in order, fields of varying widths, chunks past MAX_ENTRIES_PER_CALL', async () => {
    const producer = new Producer(redis, { name, partitions: 4 });
    const records = Array.from({ length: 2 * MAX_ENTRIES_PER_CALL + 7 }, (_, i) => ({
      partition: i % 7 === 0 ? 1 : 0,
      fields: i % 3 === 0 ? { n: String(i), extra: 'x' } : ['n', i],
    }));
    const ids = await producer.append(records);
    expect(ids).toHaveLength(records.length);
    for (const p of [0, 1]) {
      const entries = (await redis.xrange(partitionKeys(name, p).stream, '-', '+')) as [string, string[]][];
      const expected = records.flatMap((r, i) => (r.partition === p ? [i] : []));
      expect(entries.map(([, fields]) => Number(fields[1]))).toEqual(expected);
      expect(entries.map(([id]) => id)).toEqual(expected.map((i) => ids[i]));
      for (const [, fields] of entries) expect(fields.length).toBe(Number(fields[1]) % 3 === 0 ? 4 : 2);
    }
    expect(await producer.appendAll(records.slice(0, 10))).toBe(10);
    expect(await redis.xlen(partitionKeys(name, 0).stream)).toBe(
      records.filter((r) => r.partition === 0).length +
        records.slice(0, 10).filter((r) => r.partition === 0).length,
    );
  });

  it('stores every field value byte for byte as a plain XADD does (numbers, controls, surrogates, quotes)', async () => {
    const producer = new Producer(redis, { name, partitions: 1 });
    const values: (string | number)[] = [
      0.1,
      -0,
      1e21,
      123456789012345680000,
      -3.5,
      Number.MAX_SAFE_INTEGER,
      'plain',
      '',
      'tab\there\u0000nul\u007f\u0085',
      '"quoted" \\ud800 and \\',
      'lone \ud800 high',
      'lone \udfff low',
      'pair 🏆 é 中',
      '\u2028\u2029',
    ];
    const records = values.map((v, i) => ({ partition: 0, fields: ['i', i, 'v', v] }));
    await producer.append(records);
    const reference = `${name}:reference`;
    for (const r of records) await redis.xadd(reference, '*', ...r.fields);
    const stored = await redis.xrangeBuffer(partitionKeys(name, 0).stream, '-', '+');
    const expected = await redis.xrangeBuffer(reference, '-', '+');
    expect(stored.map(([, fields]) => fields)).toEqual(expected.map(([, fields]) => fields));
    await redis.unlink(reference);
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
