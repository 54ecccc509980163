import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, dropKeys, redisUrl, uniqueName } from '../../test/support/redis.js';
import { type Batch, Consumer, Producer, partitionFor, partitionKeys } from '../src/index.js';
import { type ChildMessage, type ConsumerChild, spawnConsumer, waitUntil } from './support.js';

const LEASE_MS = 1500;

describe('a consumer process that dies or stalls mid-batch', () => {
  let redis: Redis;
  let name: string;
  let child: ConsumerChild | undefined;
  let survivor: Consumer | undefined;
  beforeEach(() => {
    redis = connect();
    name = uniqueName('cr');
  });
  afterEach(async () => {
    if (child && child.process.exitCode === null) {
      child.process.kill('SIGCONT');
      child.process.kill('SIGKILL');
    }
    await survivor?.close();
    await dropKeys(redis, name);
    await redis.quit();
  });

  /** Entry ids are unique within a partition only, so entries are named `<partition>/<id>`. */
  async function produce(count: number): Promise<string[]> {
    const producer = new Producer(redis, { name, partitions: 16 });
    const keys = Array.from({ length: count }, (_, i) => `u${i}`);
    const ids = await producer.append(keys.map((key, i) => ({ key, fields: { i: String(i) } })));
    return ids.map((id, i) => `${partitionFor(keys[i]!, 16)}/${id}`);
  }

  const named = (messages: ChildMessage[], type: string) =>
    messages.filter((m) => m.type === type).flatMap((m) => m.ids!.map((id) => `${m.partition}/${id}`));

  /** A second consumer that records what it acknowledged, and when it got each partition. */
  async function startSurvivor(acked: Set<string>, assignedAt: number[]): Promise<Consumer> {
    const consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: 16,
      consumerId: 'survivor',
      leaseMs: LEASE_MS,
      blockMs: 50,
      batchSize: 50,
    });
    consumer.on('assigned', () => assignedAt.push(Date.now()));
    await consumer.start();
    void (async () => {
      for await (const batch of consumer as AsyncIterable<Batch>) {
        await consumer.ack(batch);
        for (const e of batch.entries) acked.add(`${batch.partition}/${e.id}`);
      }
    })();
    return consumer;
  }

  async function pendingTotal(): Promise<number> {
    const all = await Promise.all(
      Array.from({ length: 16 }, (_, p) => redis.xpending(partitionKeys(name, p).stream, 'g')),
    );
    return all.reduce<number>((sum, x) => sum + Number((x as unknown[])[0]), 0);
  }

  it('after SIGKILL, its partitions move on lease expiry and every entry is redelivered and acked', async () => {
    const ids = await produce(1500);
    child = spawnConsumer({
      REDIS_URL: redisUrl(),
      STREAM_NAME: name,
      LEASE_MS: String(LEASE_MS),
      HOLD_AFTER: '3',
    });
    const holding = await child.waitFor((m) => m.type === 'holding');
    child.process.kill('SIGKILL');
    const killedAt = Date.now();
    const ackedByChild = new Set(named(child.messages, 'acked'));

    const acked = new Set<string>();
    const assignedAt: number[] = [];
    survivor = await startSurvivor(acked, assignedAt);
    await waitUntil(
      () => acked.size + ackedByChild.size >= ids.length && acked.size > 0,
      30_000,
      'all entries acked',
    );

    // The dead consumer's leases had to expire first: nothing moved before that.
    expect(Math.min(...assignedAt) - killedAt).toBeGreaterThan(LEASE_MS / 3);
    expect(survivor.ownedPartitions().size).toBe(16);
    for (const id of holding.ids!) expect(acked.has(`${holding.partition}/${id}`)).toBe(true);
    const union = new Set([...acked, ...ackedByChild]);
    expect([...union].sort()).toEqual([...ids].sort());
    await waitUntil(async () => (await pendingTotal()) === 0, 10_000, 'no pending entries');
  });

  it('after SIGSTOP past its lease, the resumed process finds its lease lost and cannot ack', async () => {
    const ids = await produce(600);
    child = spawnConsumer({
      REDIS_URL: redisUrl(),
      STREAM_NAME: name,
      LEASE_MS: String(LEASE_MS),
      HOLD_AFTER: '1',
      HOLD_MS: '300',
    });
    const holding = await child.waitFor((m) => m.type === 'holding');
    child.process.kill('SIGSTOP');

    const acked = new Set<string>();
    survivor = await startSurvivor(acked, []);
    const ackedBeforePause = named(child.messages, 'acked');
    await waitUntil(
      () => acked.size + ackedBeforePause.length >= ids.length,
      30_000,
      'survivor acked the rest',
    );
    expect(new Set([...acked, ...ackedBeforePause])).toEqual(new Set(ids));
    for (const id of holding.ids!) expect(acked.has(`${holding.partition}/${id}`)).toBe(true);

    child.process.kill('SIGCONT');
    const failed = await child.waitFor((m) => m.type === 'ack-failed');
    expect(failed.leaseLost).toBe(true);
    expect(failed.epoch).toBe(holding.epoch);
    expect(failed.ids).toEqual(holding.ids);
    // Whatever the resumed process does later, it does under a new lease, never the old epoch.
    const revoked = await child.waitFor((m) => m.type === 'revoked' && m.partition === holding.partition);
    expect(revoked.reason).toBe('lease-lost');
    const after = child.messages.slice(child.messages.indexOf(failed) + 1);
    for (const m of after.filter((x) => x.type === 'acked')) expect(m.epoch).not.toBe(holding.epoch);
  });
});
