import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, dropKeys, uniqueName } from '../../test/support/redis.js';
import { type Batch, Consumer, Producer, partitionKeys, StreamAdmin } from '../src/index.js';
import { waitUntil } from './support.js';

/**
 * A read whose reply is lost (its connection closed after Redis ran it) and that the client sends
 * again: the first run delivered entries to the consumer that nobody saw. Here the first run is
 * played by the test itself, with the consumer's name, on another connection: what Redis sees is
 * the same, and no connection event tells the consumer.
 */
describe('a read that Redis ran but whose reply never reached the consumer', () => {
  let redis: Redis;
  let name: string;
  let consumer: Consumer | undefined;
  beforeEach(() => {
    redis = connect();
    name = uniqueName('lr');
  });
  afterEach(async () => {
    await consumer?.close();
    consumer = undefined;
    await dropKeys(redis, name);
    await redis.quit();
  });

  async function produce(count: number): Promise<string[]> {
    const producer = new Producer(redis, { name, partitions: 1 });
    return producer.append(
      Array.from({ length: count }, (_, i) => ({ partition: 0, fields: { i: String(i) } })),
    );
  }

  function start(): Consumer {
    consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: 1,
      consumerId: 'c1',
      batchSize: 10,
      maxInFlight: 1,
      blockMs: 50,
      leaseMs: 5000,
    });
    return consumer;
  }

  it('hands out the entries that read delivered, in stream order, before anything newer', async () => {
    const ids = await produce(40);
    const c = start();
    await c.start();
    const seen: string[] = [];
    let lost: string[] = [];
    const reading = (async () => {
      for await (const batch of c as AsyncIterable<Batch>) {
        seen.push(...batch.entries.map((e) => e.id));
        if (lost.length === 0) {
          // The consumer holds its only in-flight batch, so it reads nothing meanwhile.
          const reply = (await redis.xreadgroup(
            'GROUP',
            'g',
            'c1',
            'COUNT',
            5,
            'STREAMS',
            partitionKeys(name, 0).stream,
            '>',
          )) as [string, [string, string[]][]][];
          lost = reply[0]![1].map(([id]) => id);
        }
        await c.ack(batch);
      }
    })();
    // Lost entries would never come: the wait ends either way, and the checks below tell.
    await waitUntil(() => seen.length >= ids.length, 10_000).catch(() => {});
    await c.close();
    await reading;
    expect(lost).toEqual(ids.slice(10, 15));
    // Every entry once, in stream order: the lost read's entries came back as the next batch.
    expect(seen).toEqual(ids);
    const pending = (await redis.xpending(partitionKeys(name, 0).stream, 'g')) as [number];
    expect(Number(pending[0])).toBe(0);
  });

  it('delivers everything again after resetGroup, and goes on after the group is destroyed', async () => {
    const ids = await produce(25);
    const c = start();
    await c.start();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of c as AsyncIterable<Batch>) {
        seen.push(...batch.entries.map((e) => e.id));
        await c.ack(batch);
      }
    })();
    await waitUntil(() => seen.length === 25, 10_000, 'the first delivery');
    await new StreamAdmin(redis, { name, group: 'g', partitions: 1 }).resetGroup('0');
    await waitUntil(() => seen.length === 50, 10_000, 'the delivery after the reset');
    expect(seen).toEqual([...ids, ...ids]);

    // A flush or a mistaken XGROUP DESTROY: the reader recreates the group (from startId '0').
    await redis.xgroup('DESTROY', partitionKeys(name, 0).stream, 'g');
    const more = await produce(5);
    await waitUntil(
      () => more.every((id) => seen.includes(id)),
      10_000,
      'entries after the group was recreated',
    );
    await c.close();
    await reading;
    expect(seen.slice(50)).toEqual([...ids, ...more]);
  });

  it('writes one dead letter for an entry whose dead-lettering is sent twice', async () => {
    const [id] = await produce(1);
    const c = start();
    await c.start();
    for await (const batch of c as AsyncIterable<Batch>) {
      expect(await c.deadLetter(batch, batch.entries, 'bad')).toBe(1);
      // The same call again, as a client resending it after a lost reply would.
      expect(await c.deadLetter(batch, batch.entries, 'bad')).toBe(0);
      c.settle(batch);
      break;
    }
    const letters = await new StreamAdmin(redis, { name, group: 'g', partitions: 1 }).deadLetters(0);
    expect(letters.map((l) => l.originId)).toEqual([id]);
  });
});
