import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, dropKeys, uniqueName } from '../../test/support/redis.js';
import { Consumer, Producer, StreamAdmin } from '../src/index.js';
import { waitUntil } from './support.js';

describe('dead letters', () => {
  let redis: Redis;
  let name: string;
  let consumer: Consumer | undefined;
  beforeEach(() => {
    redis = connect();
    name = uniqueName('dl');
  });
  afterEach(async () => {
    await consumer?.close();
    await dropKeys(redis, name);
    await redis.quit();
  });

  it('moves poison entries to the dead-letter stream after N deliveries while the rest flows, then re-drives them', async () => {
    const partitions = 4;
    const producer = new Producer(redis, { name, partitions });
    const records = Array.from({ length: 200 }, (_, i) => ({
      key: `u${i}`,
      fields: { i: String(i), poison: i % 50 === 7 ? '1' : '0' },
    }));
    await producer.append(records);
    const poisonCount = records.filter((r) => r.fields.poison === '1').length;

    consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions,
      maxDeliveries: 3,
      blockMs: 20,
      batchSize: 20,
    });
    consumer.on('error', () => {}); // handler failures are reported here; expected in this test
    const attempts = new Map<string, number>();
    const done = new Set<string>();
    let healed = false;
    await consumer.start();
    const running = consumer.run(async (batch) => {
      for (const entry of batch.entries) {
        const i = entry.fields.i!;
        attempts.set(i, (attempts.get(i) ?? 0) + 1);
        if (entry.fields.poison === '1' && !healed) throw new Error(`cannot handle entry ${i}`);
      }
      for (const entry of batch.entries) done.add(entry.fields.i!);
    });

    const admin = new StreamAdmin(redis, { name, group: 'g', partitions });
    await waitUntil(
      async () =>
        done.size === records.length - poisonCount && (await admin.allDeadLetters()).length === poisonCount,
      30_000,
      'healthy entries done and poison dead-lettered',
    );
    const letters = await admin.allDeadLetters();
    expect(letters.map((l) => l.fields.i).sort()).toEqual(['107', '157', '57', '7']);
    for (const letter of letters) {
      expect(letter.deliveries).toBe(3);
      expect(attempts.get(letter.fields.i!)).toBe(3);
      expect(letter.reason).toMatch(/delivered 3 times/);
      expect(letter.fields.poison).toBe('1');
    }
    const info = await admin.groupInfo();
    expect(info.reduce((sum, p) => sum + p.pending, 0)).toBe(0);

    const dead = async () => {
      const ids = new Set<string>();
      for (let p = 0; p < partitions; p++) for (const id of await admin.deadLetteredIds(p)) ids.add(id);
      return ids;
    };
    const origins = new Set(letters.map((l) => l.originId));
    expect(await dead()).toEqual(origins);

    healed = true;
    let redriven = 0;
    for (let p = 0; p < partitions; p++) redriven += await admin.redrive(p);
    expect(redriven).toBe(poisonCount);
    // Re-driven entries are still known as dead-lettered under their original ids.
    expect(await dead()).toEqual(origins);
    await waitUntil(() => done.size === records.length, 20_000, 're-driven entries processed');
    expect(await admin.allDeadLetters()).toEqual([]);
    await consumer.close();
    await running;
  });

  it('does not dead-letter healthy entries when every handler call fails for a short while', async () => {
    const producer = new Producer(redis, { name, partitions: 2 });
    await producer.append(
      Array.from({ length: 300 }, (_, i) => ({ key: `u${i}`, fields: { i: String(i) } })),
    );
    consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: 2,
      maxDeliveries: 4,
      blockMs: 20,
      batchSize: 50,
    });
    consumer.on('error', () => {});
    await consumer.start();
    let outageEnds = 0;
    const done = new Set<string>();
    const running = consumer.run(async (batch) => {
      outageEnds ||= Date.now() + 300;
      if (Date.now() < outageEnds) throw new Error('downstream unavailable');
      for (const entry of batch.entries) done.add(entry.fields.i!);
    });
    await waitUntil(() => done.size === 300, 20_000, 'every entry handled after the outage');
    const admin = new StreamAdmin(redis, { name, group: 'g', partitions: 2 });
    expect(await admin.allDeadLetters()).toEqual([]);
    await consumer.close();
    await running;
  });
});
