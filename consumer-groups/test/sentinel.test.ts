import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/redis.js';
import { type SentinelGroupHandle, startSentinelGroup } from '../../test/support/redisSentinel.js';
import { type Batch, Consumer, Producer } from '../src/index.js';
import { waitUntil } from './support.js';

describe('consumer groups behind Sentinel', () => {
  let group: SentinelGroupHandle;
  beforeAll(async () => {
    group = await startSentinelGroup();
  });
  afterAll(async () => {
    await group?.stop();
  });

  it('follows the primary through a failover: entries appended after it are delivered', async () => {
    const name = uniqueName('sn');
    const redis: Redis = group.connect();
    const producer = new Producer(redis, { name, partitions: 4 });
    const consumer = new Consumer(redis, { name, group: 'g', partitions: 4, leaseMs: 3000, blockMs: 100 });
    consumer.on('error', () => {}); // the failover's lost connections
    await consumer.start();
    const seen = new Set<string>();
    const reading = (async () => {
      for await (const batch of consumer as AsyncIterable<Batch>) {
        for (const entry of batch.entries) seen.add(entry.fields.n!);
        await consumer.ack(batch).catch(() => {}); // a lease lost in the failover: redelivered
      }
    })();
    const append = async (from: number, count: number) => {
      const numbers = Array.from({ length: count }, (_, i) => String(from + i));
      for (;;) {
        try {
          await producer.append(numbers.map((n) => ({ key: n, fields: { n } })));
          return numbers;
        } catch {
          await sleep(50);
        }
      }
    };
    const before = await append(0, 200);
    await waitUntil(() => before.every((n) => seen.has(n)), 10_000, 'the entries before the failover');
    await redis.call('WAIT', 1, 2000); // the replica has them: the failover keeps them

    await group.kill(group.primaryPort);
    await waitUntil(async () => (await group.currentPrimary()) === group.replicaPort, 20_000, 'the failover');
    const after = await append(200, 200);
    await waitUntil(() => after.every((n) => seen.has(n)), 20_000, 'the entries after the failover').catch(
      () => {},
    );
    expect(after.filter((n) => !seen.has(n))).toEqual([]);
    expect(await redis.call('ROLE').then((role) => (role as string[])[0])).toBe('master');
    await consumer.close();
    await reading;
    redis.disconnect();
  });
});
