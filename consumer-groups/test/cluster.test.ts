import type { Cluster } from 'ioredis';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sharedClusterSeeds, uniqueName } from '../../test/support/redis.js';
import { connectCluster } from '../../test/support/redisCluster.js';
import {
  type Batch,
  Consumer,
  compareIds,
  keySlot,
  Producer,
  partitionFor,
  partitionKeys,
  partitionShards,
} from '../src/index.js';
import { type ConsumerChild, spawnConsumer, waitUntil } from './support.js';

const PARTITIONS = 16;

/** On the run's shared cluster: these tests only touch keys under their own random name. */
describe('consumer groups on a Redis Cluster', () => {
  let seeds: string[];
  let redis: Cluster;
  let name: string;
  let child: ConsumerChild | undefined;
  let consumer: Consumer | undefined;
  beforeAll(async () => {
    seeds = await sharedClusterSeeds();
  });
  beforeEach(() => {
    redis = connectCluster(seeds);
    name = uniqueName('cl');
  });
  afterEach(async () => {
    if (child && child.process.exitCode === null) child.process.kill('SIGKILL');
    child = undefined;
    await consumer?.close();
    consumer = undefined;
    const keys = Array.from({ length: PARTITIONS }, (_, p) => Object.values(partitionKeys(name, p))).flat();
    await Promise.all(keys.map((key) => redis.unlink(key)));
    redis.disconnect();
  });

  it('delivers every entry once per partition, in order, and acknowledges it', async () => {
    const producer = new Producer(redis, { name, partitions: PARTITIONS });
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    let sent = 0;
    for (let round = 0; round < 5; round++) {
      const ids = await producer.append(users.map((key) => ({ key, fields: { key, round: String(round) } })));
      expect(ids).toHaveLength(users.length);
      sent += ids.length;
    }
    consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: PARTITIONS,
      leaseMs: 3000,
      batchSize: 100,
    });
    await consumer.start();
    const lastRound = new Map<string, number>();
    const lastId = new Map<number, string>();
    let received = 0;
    for await (const batch of consumer as AsyncIterable<Batch>) {
      for (const entry of batch.entries) {
        expect(partitionFor(entry.fields.key!, PARTITIONS)).toBe(batch.partition);
        expect(Number(entry.fields.round)).toBe((lastRound.get(entry.fields.key!) ?? -1) + 1);
        lastRound.set(entry.fields.key!, Number(entry.fields.round));
        const previous = lastId.get(batch.partition);
        if (previous) expect(compareIds(entry.id, previous)).toBe(1);
        lastId.set(batch.partition, entry.id);
      }
      await consumer.ack(batch);
      received += batch.entries.length;
      if (received >= sent) break;
    }
    expect(received).toBe(sent);
    expect(new Set(lastRound.values())).toEqual(new Set([4]));
    expect(lastId.size).toBe(PARTITIONS);
    const pending = await Promise.all(
      Array.from({ length: PARTITIONS }, (_, p) => redis.xpending(partitionKeys(name, p).stream, 'g')),
    );
    expect(pending.map((x) => Number((x as unknown[])[0]))).toEqual(new Array(PARTITIONS).fill(0));
  });

  it('waits for new entries on one plain connection per partition, to the master serving its slot', async () => {
    consumer = new Consumer(redis, { name, group: 'g', partitions: PARTITIONS, blockMs: 500 });
    await consumer.start();
    await waitUntil(() => consumer!.ownedPartitions().size === PARTITIONS, 10_000, 'all partitions owned');
    const shards = await partitionShards(redis, { name, partitions: PARTITIONS });
    const masters = [...new Set(shards.map((s) => s.master))];
    // Every partition's wait connection, by its name, on every node of the cluster.
    const waits = new Map<number, string[]>();
    await waitUntil(
      async () => {
        waits.clear();
        for (const node of redis.nodes('all')) {
          const list = (await node.client('LIST')) as string;
          for (const match of list.matchAll(/ name=(\S+):wait:(\d+) /g)) {
            if (match[1] !== consumer!.id) continue;
            const partition = Number(match[2]);
            waits.set(partition, [
              ...(waits.get(partition) ?? []),
              `${node.options.host}:${node.options.port}`,
            ]);
          }
        }
        return waits.size === PARTITIONS;
      },
      10_000,
      'a wait connection per partition',
    );
    for (const shard of shards) {
      expect(waits.get(shard.partition)).toEqual([shard.master]);
      expect(keySlot(partitionKeys(name, shard.partition).stream)).toBe(shard.slot);
    }
    expect(masters).toHaveLength(3);
  });

  it('moves the partitions of a SIGKILLed consumer process on lease expiry; every entry is acked', async () => {
    const producer = new Producer(redis, { name, partitions: PARTITIONS });
    const keys = Array.from({ length: 1200 }, (_, i) => `u${i}`);
    const ids = await producer.append(keys.map((key, i) => ({ key, fields: { i: String(i) } })));
    const all = ids.map((id, i) => `${partitionFor(keys[i]!, PARTITIONS)}/${id}`);
    child = spawnConsumer({
      REDIS_CLUSTER: seeds.join(','),
      STREAM_NAME: name,
      LEASE_MS: '1500',
      HOLD_AFTER: '3',
    });
    const holding = await child.waitFor((m) => m.type === 'holding');
    child.process.kill('SIGKILL');
    const ackedByChild = child.messages
      .filter((m) => m.type === 'acked')
      .flatMap((m) => m.ids!.map((id) => `${m.partition}/${id}`));

    const acked = new Set<string>();
    consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: PARTITIONS,
      consumerId: 'survivor',
      leaseMs: 1500,
      blockMs: 50,
      batchSize: 50,
    });
    await consumer.start();
    const survivor = consumer;
    void (async () => {
      for await (const batch of survivor as AsyncIterable<Batch>) {
        await survivor.ack(batch);
        for (const e of batch.entries) acked.add(`${batch.partition}/${e.id}`);
      }
    })();
    await waitUntil(() => acked.size + ackedByChild.length >= all.length, 30_000, 'every entry acked');
    for (const id of holding.ids!) expect(acked.has(`${holding.partition}/${id}`)).toBe(true);
    expect(new Set([...acked, ...ackedByChild])).toEqual(new Set(all));
    expect(survivor.ownedPartitions().size).toBe(PARTITIONS);
  });
});
