/**
 * Appends while a slot moves, on a cluster of its own (the tests move slots): a redirection of an
 * auto-pipelined append is followed instead of handed to the caller.
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
});
