/**
 * Appends while a slot moves, on a cluster of its own (the tests move slots): a redirection of an
 * auto-pipelined append is followed instead of handed to the caller, and a replicated append that
 * ran on another node than the one its WAIT would go to is refused, not acknowledged.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/redis.js';
import { type RedisClusterHandle, startRedisCluster } from '../../test/support/redisCluster.js';
import {
  createAppendConnection,
  keySlot,
  Producer,
  partitionFor,
  partitionKeys,
  partitionTag,
  ReplicationTimeoutError,
} from '../src/index.js';

const PARTITIONS = 16;

describe('appends while a slot moves', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    client = cluster.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  /** A key of each of two partitions that the same master serves now, and another master. */
  async function twoPartitionsOfOneMaster(name: string) {
    const masterOf = async (p: number) => cluster.masterOf(keySlot(partitionTag(name, p)));
    const first = await masterOf(0);
    let second = 1;
    while ((await masterOf(second)) !== first) second++;
    const keyOf = (p: number) => {
      for (let i = 0; ; i++) if (partitionFor(`user-${i}`, PARTITIONS) === p) return `user-${i}`;
    };
    const other = (await cluster.nodes()).find((n) => n.role === 'master' && n.port !== first)!.port;
    return { partitions: [0, second], keys: [keyOf(0), keyOf(second)], master: first, other };
  }

  it('follows a MOVED that one slot of an auto-pipeline gets while the others’ appends succeed', async () => {
    const name = uniqueName('mv');
    const appends = createAppendConnection(client, { enableAutoPipelining: true });
    try {
      const producer = new Producer(appends, { name, partitions: PARTITIONS });
      const { partitions, keys, other } = await twoPartitionsOfOneMaster(name);
      // The client learns the layout; then partition 0's slot moves behind its back.
      await producer.append(keys.map((key) => ({ key, fields: { n: '0' } })));
      await cluster.reshardSlot(keySlot(partitionTag(name, partitions[0]!)), other);

      // Both appends go in one pipeline to the old master: one is answered MOVED, one succeeds.
      const ids = await producer.append(keys.map((key) => ({ key, fields: { n: '1' } })));
      expect(ids).toHaveLength(2);
      for (const p of partitions) {
        const entries = await client.xrange(partitionKeys(name, p).stream, '-', '+');
        expect(
          entries.map(([, fields]) => fields[1]),
          `partition ${p}: each append once`,
        ).toEqual(['0', '1']);
      }
    } finally {
      appends.disconnect();
    }
  });

  it('refuses a replicated append that an ASK sent to the slot’s importing master', async () => {
    const name = uniqueName('ask');
    const appends = createAppendConnection(client, { enableAutoPipelining: true });
    try {
      const producer = new Producer(appends, {
        name,
        partitions: PARTITIONS,
        replicas: { replicas: 1, timeoutMs: 1000 },
      });
      const { keys, master, other } = await twoPartitionsOfOneMaster(name);
      await producer.appendOne({ key: keys[0]!, fields: { n: '0' } });

      // Half a migration: the stream is already on the target, the slot still on the source.
      const stream = partitionKeys(name, 0).stream;
      const slot = keySlot(stream);
      const nodes = await cluster.nodes();
      const id = (port: number) => nodes.find((n) => n.port === port)!.id;
      const source = cluster.client(master);
      const target = cluster.client(other);
      try {
        await target.cluster('SETSLOT', slot, 'IMPORTING', id(master));
        await source.cluster('SETSLOT', slot, 'MIGRATING', id(other));
        await source.call('MIGRATE', '127.0.0.1', other, '', 0, 5000, 'KEYS', stream);

        // ioredis follows the source's ASK: the append runs on the target, whose connection the
        // WAIT (sent to the slot's master in the client's table, the source) does not cover.
        const refused = await producer.appendOne({ key: keys[0]!, fields: { n: '1' } }).catch((e) => e);
        expect(refused).toBeInstanceOf(ReplicationTimeoutError);
        expect((refused as Error).message).toMatch(/does not hold/);

        // As `redis-cli --cluster reshard` ends a migration: the target first, then the others.
        const masters = nodes.filter((n) => n.role === 'master').map((n) => n.port);
        for (const port of [other, ...masters.filter((p) => p !== other)]) {
          const node = cluster.client(port);
          await node.cluster('SETSLOT', slot, 'NODE', id(other)).finally(() => node.disconnect());
        }
        await cluster.waitUntilHealthy();
        // The migration over, the next append is acknowledged once its new master's replica has it.
        await expect(producer.appendOne({ key: keys[0]!, fields: { n: '2' } })).resolves.toMatch(/-/);
        const entries = await client.xrange(stream, '-', '+');
        expect(entries.map(([, fields]) => fields[1])).toEqual(['0', '1', '2']);
      } finally {
        source.disconnect();
        target.disconnect();
      }
    } finally {
      appends.disconnect();
    }
  });
});
