import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis, Result } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/redis.js';
import { type RedisClusterHandle, startRedisCluster } from '../../test/support/redisCluster.js';
import {
  type Batch,
  Consumer,
  createAppendConnection,
  keySlot,
  Producer,
  partitionKeys,
  partitionTag,
  StreamAdmin,
} from '../src/index.js';
import { waitUntil } from './support.js';

const PARTITIONS = 16;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applyDrill(
      stream: string,
      lease: string,
      checkpoint: string,
      applied: string,
      group: string,
      token: string,
      ...ids: string[]
    ): Result<number, Context>;
  }
}

/**
 * The drill's processor, the way the leaderboard's apply works: one fenced script per batch
 * writes each entry's effect (a count per entry id, so a second application shows), advances the
 * partition's checkpoint and acknowledges, atomically; entries the checkpoint covers are skipped.
 */
const APPLY_LUA = `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local done = redis.call('HGET', KEYS[3], 'id') or '0-0'
local applied = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if after(id, done) then
    redis.call('HINCRBY', KEYS[4], id, 1)
    done = id
    applied = applied + 1
  end
  redis.call('XACK', KEYS[1], ARGV[1], id)
end
redis.call('HSET', KEYS[3], 'id', done)
return applied
`;

/** Destructive drills (killed connections), so on a cluster of their own. */
describe('consumer groups on a Redis Cluster whose connections drop', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Kills the normal client connections of one master every `everyMs` until stopped. */
  function killConnections(port: number, everyMs = 200): { stop(): Promise<number> } {
    const killer: Redis = cluster.client(port);
    let running = true;
    let killed = 0;
    const loop = (async () => {
      while (running) {
        killed += Number(await killer.client('KILL', 'TYPE', 'normal').catch(() => 0));
        await sleep(everyMs);
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
        killer.disconnect();
        return killed;
      },
    };
  }

  async function errorStats(): Promise<string[]> {
    const lines: string[] = [];
    for (const port of cluster.ports) {
      const node = cluster.client(port);
      const info = await node.info('errorstats');
      node.disconnect();
      lines.push(...info.split('\n').filter((line) => line.startsWith('errorstat_')));
    }
    return lines;
  }

  it('sends every command of the package to the node of its key: no MOVED while idle or at work', async () => {
    const name = uniqueName('mv');
    for (const port of cluster.ports) {
      const node = cluster.client(port);
      await node.config('RESETSTAT');
      node.disconnect();
    }
    const redis = cluster.connect();
    const admin = new StreamAdmin(redis, { name, group: 'g', partitions: PARTITIONS });
    await admin.ensureGroups();
    const producer = new Producer(redis, { name, partitions: PARTITIONS });
    await producer.append(
      Array.from({ length: 320 }, (_, i) => ({ key: `k${i}`, fields: { i: String(i) } })),
    );
    await producer.appendOne({ partition: 3, fields: { poison: '1' } });
    const consumer = new Consumer(redis, {
      name,
      group: 'g',
      partitions: PARTITIONS,
      blockMs: 50,
      maxDeliveries: 1,
    });
    await consumer.start();
    let handled = 0;
    for await (const batch of consumer as AsyncIterable<Batch>) {
      const poison = batch.entries.filter((e) => e.fields.poison);
      if (poison.length > 0) await consumer.deadLetter(batch, poison, 'poison');
      await consumer.ack(batch);
      handled += batch.entries.length;
      if (handled === 321) break;
    }
    const info = await admin.groupInfo();
    expect(info.map((p) => p.pending)).toEqual(new Array(PARTITIONS).fill(0));
    expect(info.reduce((sum, p) => sum + p.length, 0)).toBe(321);
    expect(await admin.allDeadLetters()).toHaveLength(1);
    expect([...(await admin.deadLetteredIds(3))]).toHaveLength(1);
    expect(await admin.redrive(3)).toBe(1);
    await admin.resetGroup(new Date(0));
    expect((await admin.groupInfo([0]))[0]!.lastDeliveredId).toBe('0-0');
    expect(await admin.checkpoint(5)).toBe('0-0');
    redis.disconnect();
    const redirections = (await errorStats()).filter((line) => /^errorstat_(MOVED|ASK)/.test(line));
    expect(redirections).toEqual([]);
  });

  it('waits on one new connection per partition, not on a cluster client each', async () => {
    const name = uniqueName('wc');
    const redis = cluster.connect();
    // Every master has its connection from the cluster client now: what opens next is the waits'.
    await new StreamAdmin(redis, { name, group: 'g', partitions: PARTITIONS }).ensureGroups();
    // Connections opened since `markers` (client ids grow on each node), less this test's probes.
    const probe = (port: number) => cluster.client(port, { connectionName: 'probe' });
    const markers = new Map<number, number>();
    for (const port of cluster.ports) {
      const node = probe(port);
      markers.set(port, Number(await node.client('ID')));
      node.disconnect();
    }
    const opened = async () => {
      let count = 0;
      for (const port of cluster.ports) {
        const node = probe(port);
        const list = (await node.client('LIST')) as string;
        node.disconnect();
        for (const line of list.trim().split('\n')) {
          const id = Number(/^id=(\d+) /.exec(line)?.[1]);
          if (id > markers.get(port)! && !line.includes(' name=probe ')) count++;
        }
      }
      return count;
    };
    const consumer = new Consumer(redis, { name, group: 'g', partitions: PARTITIONS, blockMs: 500 });
    await consumer.start();
    await waitUntil(async () => (await opened()) >= PARTITIONS, 10_000, 'the waits').catch(() => {});
    await sleep(600); // a blocking read or two later, nothing else has opened
    expect(await opened()).toBe(PARTITIONS);
    await consumer.close();
    const keys = Array.from({ length: PARTITIONS }, (_, p) => partitionKeys(name, p).stream);
    await Promise.all(keys.map((key) => redis.unlink(key)));
    redis.disconnect();
  });

  /**
   * Two consumers of a family, each on its own cluster client, applying every batch with the
   * drill's fenced, checkpointed script; a producer on a third client.
   */
  async function startDrill(name: string) {
    const producerClient = cluster.connect();
    const clients = [cluster.connect(), cluster.connect()];
    for (const client of clients) client.defineCommand('applyDrill', { numberOfKeys: 4, lua: APPLY_LUA });
    const consumers = clients.map(
      (client, i) =>
        new Consumer(client, {
          name,
          group: 'g',
          partitions: PARTITIONS,
          consumerId: `${name}-${i}`,
          batchSize: 200,
          blockMs: 100,
          leaseMs: 4000,
        }),
    );
    for (const consumer of consumers) consumer.on('error', () => {}); // lost connections, by design
    await Promise.all(consumers.map((c) => c.start()));
    const running = consumers.map((consumer, i) => applyBatches(consumer, clients[i]!));
    const producer = new Producer(producerClient, { name, partitions: PARTITIONS });
    const streams = Array.from({ length: PARTITIONS }, (_, p) => partitionKeys(name, p).stream);
    const appliedKeys = Array.from({ length: PARTITIONS }, (_, p) => `${partitionTag(name, p)}:applied`);
    const counts = async () => {
      const [lengths, applied] = await Promise.all([
        Promise.all(streams.map((s) => producerClient.xlen(s))),
        Promise.all(appliedKeys.map((k) => producerClient.hlen(k))),
      ]);
      return { length: sum(lengths), applied: sum(applied) };
    };
    return {
      consumers,
      /** Appends `total` entries in calls of 500, pausing between calls so that it spans the trouble. */
      async produce(total: number, pauseMs: number): Promise<void> {
        for (let sent = 0; sent < total; sent += 500) {
          const records = Array.from({ length: 500 }, (_, i) => ({
            key: `u${sent + i}`,
            fields: ['n', sent + i],
          }));
          for (;;) {
            try {
              await producer.appendAll(records);
              break;
            } catch {
              await sleep(20); // a retry may append some twice: each stream entry must still apply once
            }
          }
          await sleep(pauseMs);
        }
      },
      /** Waits until every entry is applied; lost ones never would be, so the wait ends either way. */
      async converge(timeoutMs: number): Promise<void> {
        await waitUntil(
          async () => {
            const { length, applied } = await counts().catch(() => ({ length: -1, applied: 0 }));
            return applied === length;
          },
          timeoutMs,
          'every entry applied',
        ).catch(() => {});
      },
      /** Every entry of every partition applied exactly once; resolves with the number of entries. */
      async expectEachAppliedOnce(): Promise<number> {
        let entries = 0;
        for (let p = 0; p < PARTITIONS; p++) {
          const raw = (await producerClient.xrange(streams[p]!, '-', '+')) as [string, string[]][];
          const ids = raw.map(([id]) => id);
          const applied = await producerClient.hgetall(appliedKeys[p]!);
          const missing = ids.filter((id) => applied[id] === undefined);
          const twice = Object.entries(applied).filter(([, count]) => count !== '1');
          expect({ partition: p, missing: missing.length, twice: twice.length }).toEqual({
            partition: p,
            missing: 0,
            twice: 0,
          });
          expect(Object.keys(applied).length).toBe(ids.length);
          entries += ids.length;
        }
        return entries;
      },
      async stop(): Promise<void> {
        await Promise.all(consumers.map((c) => c.close()));
        await Promise.all(running);
        const keys = Array.from({ length: PARTITIONS }, (_, p) => [
          ...Object.values(partitionKeys(name, p)),
          appliedKeys[p]!,
        ]).flat();
        await Promise.all(keys.map((key) => producerClient.unlink(key)));
        for (const client of [producerClient, ...clients]) client.disconnect();
      },
    };
  }

  it('applies every entry exactly once while one shard drops its client connections every 200 ms', async () => {
    const name = uniqueName('dr');
    const total = 40_000;
    const drill = await startDrill(name);
    const kills = killConnections(await cluster.masterOf(keySlot(partitionTag(name, 0))));
    // Paced over a few seconds, so that the consumers read while connections drop (about 20 kills).
    await drill.produce(total, 40);
    await drill.converge(30_000);
    const killed = await kills.stop();
    await drill.converge(5_000);
    expect(killed).toBeGreaterThan(0);
    expect(await drill.expectEachAppliedOnce()).toBeGreaterThanOrEqual(total);
    await drill.stop();
  });

  it('applies every entry exactly once through a failover, a slot moved to another master and a master killed', async () => {
    const name = uniqueName('fo');
    const drill = await startDrill(name);
    const producing = drill.produce(20_000, 100);
    const slot = keySlot(partitionTag(name, 0));
    const first = await cluster.masterOf(slot);
    const replica = (await cluster.nodes()).find((n) => n.role === 'replica' && n.masterPort === first)!;
    await cluster.failover(replica.port);
    const masters = (await cluster.nodes()).filter((n) => n.role === 'master').map((n) => n.port);
    const target = masters.find((port) => port !== replica.port)!;
    await cluster.reshardSlot(slot, target);
    const victim = masters.find((port) => port !== replica.port && port !== target)!;
    await cluster.kill(victim);
    await cluster.waitUntilHealthy(); // its replica took over
    await cluster.restart(victim); // back as a replica
    await producing;
    await drill.converge(20_000);
    expect(await drill.expectEachAppliedOnce()).toBeGreaterThanOrEqual(15_000);

    // The waits followed the partitions to their masters of now.
    const wanted = new Map<number, number>();
    for (let p = 0; p < PARTITIONS; p++)
      wanted.set(p, await cluster.masterOf(keySlot(partitionTag(name, p))));
    const found = new Map<number, number[]>();
    await waitUntil(
      async () => {
        found.clear();
        for (const port of cluster.ports) {
          const node = cluster.client(port);
          const list = (await node.client('LIST')) as string;
          node.disconnect();
          for (const match of list.matchAll(/ name=(\S+):wait:(\d+) /g)) {
            if (!drill.consumers.some((c) => c.id === match[1])) continue;
            found.set(Number(match[2]), [...(found.get(Number(match[2])) ?? []), port]);
          }
        }
        return [...wanted].every(([p, port]) => found.get(p)?.length === 1 && found.get(p)![0] === port);
      },
      10_000,
      'the waits on the current masters',
    ).catch(() => {});
    expect(new Map([...found].map(([p, ports]) => [p, ports]))).toEqual(
      new Map([...wanted].map(([p, port]) => [p, [port]])),
    );
    await drill.stop();
  });

  it('never appends twice behind one success, on a connection for appends, while the shard drops connections', async () => {
    const name = uniqueName('ap');
    const shared = cluster.connect();
    const appends = createAppendConnection(shared, { commandTimeoutMs: 2000 });
    const producer = new Producer(appends, { name, partitions: PARTITIONS });
    const killedPort = await cluster.masterOf(keySlot(partitionTag(name, 0)));
    const partitions: number[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      if ((await cluster.masterOf(keySlot(partitionTag(name, p)))) === killedPort) partitions.push(p);
    }
    const resolved = new Set<number>();
    const rejected = new Set<number>();
    let next = 0;
    const kills = killConnections(killedPort, 100);
    const deadline = Date.now() + 3000;
    // Many appends in flight at once, single ones (XADD) and batches (the appendEntries script),
    // so that kills land between Redis running an append and its reply reaching the client.
    await Promise.all(
      Array.from({ length: 16 }, async (_, lane) => {
        while (Date.now() < deadline) {
          const size = lane % 2 === 0 ? 1 : 20;
          const numbers = Array.from({ length: size }, () => next++);
          const records = numbers.map((n) => ({
            partition: partitions[n % partitions.length]!,
            fields: ['n', n],
          }));
          try {
            if (size === 1) await producer.appendOne(records[0]!);
            else await producer.append(records);
            for (const n of numbers) resolved.add(n);
          } catch {
            for (const n of numbers) rejected.add(n);
            await sleep(10);
          }
        }
      }),
    );
    const killed = await kills.stop();

    const seen = new Map<number, number>();
    for (const p of partitions) {
      const entries = (await shared.xrange(partitionKeys(name, p).stream, '-', '+')) as [string, string[]][];
      for (const [, fields] of entries) seen.set(Number(fields[1]), (seen.get(Number(fields[1])) ?? 0) + 1);
    }
    expect(killed).toBeGreaterThan(0);
    expect(resolved.size).toBeGreaterThan(0);
    const notOnce = [...resolved].filter((n) => seen.get(n) !== 1);
    expect(notOnce).toEqual([]);
    const rejectedTwice = [...rejected].filter((n) => (seen.get(n) ?? 0) > 1);
    expect(rejectedTwice).toEqual([]);
    expect(seen.size).toBeLessThanOrEqual(resolved.size + rejected.size);
    await Promise.all(
      Array.from({ length: PARTITIONS }, (_, p) => shared.unlink(partitionKeys(name, p).stream)),
    );
    appends.disconnect();
    shared.disconnect();
  });
});

/** Applies each batch with the drill's script, retrying a failed call (it may have run: the checkpoint skips it). */
async function applyBatches(consumer: Consumer, redis: Cluster): Promise<void> {
  for await (const batch of consumer as AsyncIterable<Batch>) {
    const keys = partitionKeys(consumer.options.name, batch.partition);
    const applied = `${partitionTag(consumer.options.name, batch.partition)}:applied`;
    const ids = batch.entries.map((e) => e.id);
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        await redis.applyDrill(keys.stream, keys.lease, keys.checkpoint, applied, 'g', batch.token, ...ids);
        break;
      } catch {
        await sleep(20);
      }
    }
    consumer.settle(batch);
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
