/**
 * Live updates on a Redis Cluster (the run's shared cluster; this test only uses its own keys):
 * the service, on REDIS_CLUSTER, announces each new snapshot with a sharded publish (`SPUBLISH`)
 * on its board's channel, in the slot of the board's snapshots, so the message goes to that one
 * shard instead of to every node; a live (SSE) client gets its update from it.
 */
import type { Cluster, Redis } from 'ioredis';
import { keySlot } from 'redis-streams-consumer-groups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { snapshotChannel } from '../../operators/stateKeys.js';
import { type DrillService, startDrillService } from '../support/drillService.js';
import { sharedClusterSeeds, uniqueName } from '../support/redis.js';
import { connectCluster } from '../support/redisCluster.js';

interface Frame {
  version: number;
  entries: { rank: number; userId: string; score: number }[];
}

/** The `top` frames of an SSE response, one at a time. */
function topFrames(res: Response): () => Promise<Frame> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return async () => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        if (!lines.includes('event: top')) continue; // heartbeats are comments
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
        return JSON.parse(data.join('\n')) as Frame;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the live stream ended');
      buffer += value;
    }
  };
}

const field = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);

describe('live updates on a Redis Cluster', () => {
  let service: DrillService;
  let cluster: Cluster;
  const name = uniqueName('live');
  const board = 'arena';

  beforeAll(async () => {
    const seeds = await sharedClusterSeeds();
    cluster = connectCluster(seeds);
    service = await startDrillService(
      { REDIS_CLUSTER: seeds.join(',') },
      { workers: 1, name, partitions: 16 },
    );
  });

  afterAll(async () => {
    await service?.stop();
    // Only this test's keys: every key it wrote carries its name.
    for (const node of cluster?.nodes('master') ?? []) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `*${name}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) await node.unlink(key);
      } while (cursor !== '0');
    }
    cluster?.disconnect();
  });

  const post = async (userId: string, value: number) => {
    const res = await fetch(`${service.url}/v1/boards/${board}/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId, value }),
    });
    expect(res.status).toBe(202);
  };

  it('sends a live client its update, announced by SPUBLISH on the one shard of the board’s channel', async () => {
    const put = await fetch(`${service.url}/v1/boards/${board}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: board,
        policy: 'sum',
        order: 'desc',
        windows: ['all'],
        topK: 10,
        graceSeconds: 60,
        retentionDays: 30,
      }),
    });
    expect(put.status).toBe(201);
    await post('ann', 5);
    await waitUntil(
      async () =>
        ((await (await fetch(`${service.url}/v1/boards/${board}/top`)).json()) as Frame).entries.length === 1,
      30_000,
      'the first snapshot',
    );

    const channel = snapshotChannel(name, board);
    const slot = keySlot(channel);
    const masters = cluster.nodes('master');
    const owner = masters.find((m) => {
      const key = cluster.slots[slot]?.[0];
      return key === `${m.options.host}:${m.options.port}`;
    })!;
    expect(owner, 'the master serving the channel’s slot').toBeDefined();
    const spublished = async (node: Redis) =>
      field(await node.info('commandstats'), /^cmdstat_spublish:calls=(\d+)/m);

    const abort = new AbortController();
    const res = await fetch(`${service.url}/v1/boards/${board}/live?window=all`, { signal: abort.signal });
    try {
      expect(res.status).toBe(200);
      const next = topFrames(res);
      const first = await next();
      expect(first.entries.map((e) => e.userId)).toEqual(['ann']);

      // The service subscribed to the board's channel on its shard only.
      await waitUntil(
        async () => ((await owner.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1] === 1,
        10_000,
        'the service subscribed to the channel',
      );
      for (const master of masters.filter((m) => m !== owner)) {
        const [, count] = (await master.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        expect(count, `subscribers on ${master.options.port}, not the channel’s shard`).toBe(0);
      }

      const before = await spublished(owner);
      await post('bob', 9);
      let update = await next();
      while (update.entries.length < 2) update = await next();
      expect(update.version).toBeGreaterThan(first.version);
      expect(update.entries.map((e) => [e.userId, e.score])).toEqual([
        ['bob', 9],
        ['ann', 5],
      ]);
      expect(await spublished(owner), 'announcements published on the channel’s master').toBeGreaterThan(
        before,
      );
    } finally {
      abort.abort();
    }
  });
});
