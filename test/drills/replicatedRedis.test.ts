/**
 * Failure drills on replicated Redis (issue 10): the real service (`server/main.ts`: the edge over
 * HTTP, the workers, the production connection from REDIS_CLUSTER or REDIS_SENTINELS) while
 * clients keep POSTing single events and batches, through the faults of a real deployment:
 *
 * 1. the client connections of one master killed again and again (`CLIENT KILL TYPE normal`);
 * 2. a worker process SIGKILLed, and a replacement started;
 * 3. a replica promoted by a coordinated `CLUSTER FAILOVER`;
 * 4. a master whose replica was cut off for 0.5 s SIGKILLed and replaced by its replica, with
 *    `DURABILITY=replicated` (the old master restarted, as a replica), and with `DURABILITY=local`
 *    (not restarted), which measures the loss window;
 * 5. the slot of a busy partition resharded to another master;
 * 6. a shard down (master and replica): a read that needs it answers 503 in bounded time;
 * 7. behind Sentinel, the primary SIGKILLed and its replica promoted, `DURABILITY=replicated`.
 *
 * Each drill ends with `expectExactlyOnce` (`test/support/drillTraffic.ts`): every event answered
 * 202 is counted exactly once (in the `local` loss drill: every event the streams kept), no other
 * event twice, every board and window equals the reference model, and `verifyBoards` finds no top
 * that differs from a fresh merge.
 *
 * Every drill has its own small cluster (3 masters, 1 replica each) or Sentinel group, so a drill
 * that breaks one leaves the others theirs; they run one after another in this one file so that
 * no two of them load the machine at once. Each prints its figures (`drill figures: {...}`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { keySlot, partitionFor, partitionTag } from 'redis-streams-consumer-groups';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import { type DrillService, startDrillService } from '../support/drillService.js';
import { type DrillFigures, DrillTraffic, expectExactlyOnce } from '../support/drillTraffic.js';
import { type RedisClusterHandle, startRedisCluster } from '../support/redisCluster.js';
import { type SentinelGroupHandle, startSentinelGroup } from '../support/redisSentinel.js';

const PARTITIONS = 16;
const NAME = 'drill';
const WORKER = fileURLToPath(new URL('../fixtures/deploymentWorker.ts', import.meta.url));

function report(drill: string, figures: DrillFigures | Record<string, unknown>): void {
  const { lostEvents: _, ...printed } = figures as DrillFigures;
  console.log(`drill figures: ${JSON.stringify({ drill, ...printed })}`);
}

interface WorkerChild {
  process: ChildProcess;
  messages: { type: string; partition?: number; owned?: number[]; message?: string }[];
  owned(): Set<number>;
}

function spawnWorker(env: Record<string, string>): WorkerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: WorkerChild['messages'] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line));
    } catch {
      // not one of ours
    }
  });
  return {
    process: child,
    messages,
    owned() {
      const owned = new Set<number>();
      for (const m of messages) {
        if (m.type === 'started') for (const p of m.owned ?? []) owned.add(p);
        if (m.type === 'assigned') owned.add(m.partition!);
        if (m.type === 'revoked') owned.delete(m.partition!);
      }
      return owned;
    },
  };
}

describe('the leaderboard on a Redis Cluster and behind Sentinel, through failures', () => {
  let cluster: RedisClusterHandle | undefined;
  let sentinel: SentinelGroupHandle | undefined;
  let service: DrillService | undefined;
  let traffic: DrillTraffic | undefined;
  let inspect: Cluster | Redis | undefined;
  const children: WorkerChild[] = [];

  afterEach(async () => {
    // Whatever a failed drill left behind, the Redis processes go: nothing may outlive the file.
    try {
      await traffic?.stop();
      for (const child of children.splice(0)) {
        if (child.process.exitCode === null && child.process.signalCode === null)
          child.process.kill('SIGKILL');
      }
      inspect?.disconnect();
      // A service whose Redis is gone may take a while to give its leases up; not forever.
      await Promise.race([service?.stop(), sleep(20_000, undefined, { ref: false })]);
    } finally {
      service?.removeData();
      traffic = undefined;
      service = undefined;
      inspect = undefined;
      await cluster?.stop();
      cluster = undefined;
      await sentinel?.stop();
      sentinel = undefined;
    }
  }, 90_000);

  /** A fresh cluster, the service on it, and the clients' traffic started. */
  async function onCluster(
    seed: number,
    options: { durability?: 'local' | 'replicated'; workers?: 0 | 1; env?: Record<string, string> } = {},
  ): Promise<{
    cluster: RedisClusterHandle;
    service: DrillService;
    traffic: DrillTraffic;
    inspect: Cluster;
  }> {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    service = await startDrillService(
      {
        REDIS_CLUSTER: cluster.seeds.join(','),
        DURABILITY: options.durability ?? 'local',
        ...options.env,
      },
      { workers: options.workers ?? 1, name: NAME, partitions: PARTITIONS },
    );
    const client = cluster.connect();
    inspect = client;
    traffic = new DrillTraffic({ base: service.url, key: service.key, seed });
    await traffic.putBoards();
    return { cluster, service, traffic, inspect: client };
  }

  /** The master serving partition p now, and its replica. */
  async function shardOf(
    handle: RedisClusterHandle,
    p: number,
  ): Promise<{ master: number; replica: number }> {
    const slot = keySlot(partitionTag(NAME, p));
    const master = await handle.masterOf(slot);
    const replica = (await handle.nodes()).find((n) => n.role === 'replica' && n.masterPort === master);
    if (!replica) throw new Error(`master ${master} has no replica`);
    return { master, replica: replica.port };
  }

  /**
   * Cuts a master off from its replica for `ms`, as a broken link would: the replica may no longer
   * resynchronise (its `PSYNC`, `SYNC` and `REPLCONF` are refused to the default user, which clients
   * never send) and its connection is closed. What the master accepts meanwhile, it alone holds.
   */
  async function cutReplication(handle: RedisClusterHandle, master: number, ms: number): Promise<void> {
    const node = handle.client(master);
    try {
      await node.call('ACL', 'SETUSER', 'default', '-psync', '-sync', '-replconf');
      await node.client('KILL', 'TYPE', 'replica');
      await sleep(ms);
    } finally {
      node.disconnect();
    }
  }

  /** The partitions a master serves now. */
  async function shardPartitions(handle: RedisClusterHandle, master: number): Promise<Set<number>> {
    const owned = new Set<number>();
    for (let p = 0; p < PARTITIONS; p++) {
      if ((await handle.masterOf(keySlot(partitionTag(NAME, p)))) === master) owned.add(p);
    }
    return owned;
  }

  const check = (measureLoss = false) =>
    expectExactlyOnce({
      redis: inspect!,
      traffic: traffic!,
      name: NAME,
      partitions: PARTITIONS,
      measureLoss,
      describeBacklog: () => service!.running.services.admin.groupInfo(),
    });

  it('1. counts every event answered 202 exactly once while one master kills its clients’ connections', async () => {
    const { cluster, traffic } = await onCluster(10_001);
    const { master } = await shardOf(cluster, 0);
    traffic.start();
    await traffic.waitFor('before', 'accepted', 40);

    traffic.phase = 'kills';
    const killer = cluster.client(master);
    let killed = 0;
    let rounds = 0;
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      killed += Number(await killer.client('KILL', 'TYPE', 'normal').catch(() => 0));
      rounds++;
      await sleep(200);
    }
    killer.disconnect();
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 40);

    const figures = await check();
    report('client-kill', { ...figures, killRounds: rounds, connectionsKilled: killed });
    expect(killed, 'connections killed').toBeGreaterThan(rounds);
    expect(
      traffic.count('kills', 'accepted'),
      'accepted while connections were being killed',
    ).toBeGreaterThan(0);
  }, 120_000);

  it('2. counts every event answered 202 exactly once through a worker process SIGKILLed and replaced', async () => {
    const { cluster, service, traffic } = await onCluster(10_002, { workers: 0 });
    const env = {
      REDIS_CLUSTER: cluster.seeds.join(','),
      KEY_PREFIX: NAME,
      PARTITIONS: String(PARTITIONS),
      REFRESH_MS: '20',
      LOG_LEVEL: 'silent',
      LEASE_MS: '1000',
    };
    const start = async () => {
      const child = spawnWorker(env);
      children.push(child);
      await waitUntil(
        () => {
          if (child.process.exitCode !== null)
            throw new Error(`worker exited with ${child.process.exitCode}`);
          return child.messages.some((m) => m.type === 'started');
        },
        30_000,
        'a worker process started',
      );
      return child;
    };
    const [a, b] = [await start(), await start()];
    await waitUntil(() => a.owned().size > 0 && b.owned().size > 0, 30_000, 'both workers own partitions');
    traffic.start();
    await traffic.waitFor('before', 'accepted', 60);

    traffic.phase = 'killed';
    const ownedByKilled = a.owned().size;
    a.process.kill('SIGKILL');
    const c = await start();
    await waitUntil(() => c.owned().size > 0, 30_000, 'the replacement owns partitions');
    await traffic.waitFor('killed', 'accepted', 20);
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 40);

    const figures = await check();
    report('worker-sigkill', { ...figures, partitionsOfTheKilledWorker: ownedByKilled });
    expect(a.process.signalCode, 'the killed worker').toBe('SIGKILL');
    expect(service.running.services.workers, 'no workers in the edge process').toBeUndefined();
  }, 120_000);

  it('3. counts every event answered 202 exactly once through a coordinated CLUSTER FAILOVER under load', async () => {
    const { cluster, traffic } = await onCluster(10_003);
    const { master, replica } = await shardOf(cluster, 0);
    traffic.start();
    await traffic.waitFor('before', 'accepted', 60);

    traffic.phase = 'failover';
    await cluster.failover(replica);
    expect(
      await cluster.masterOf(keySlot(partitionTag(NAME, 0))),
      'partition 0 is served by the promoted replica',
    ).toBe(replica);
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 60);

    const figures = await check();
    report('cluster-failover', { ...figures, oldMaster: master, newMaster: replica });
  }, 120_000);

  it('4. with DURABILITY=replicated, counts every event answered 202 after a master cut off from its replica is SIGKILLed and the replica promoted', async () => {
    const { cluster, traffic } = await onCluster(10_004, { durability: 'replicated' });
    const { master, replica } = await shardOf(cluster, 0);
    traffic.start();
    await traffic.waitFor('before', 'accepted', 60);

    // The replica falls behind, then the master dies: what it alone held is lost with it.
    traffic.phase = 'cut';
    await cutReplication(cluster, master, 500);
    traffic.phase = 'outage';
    await cluster.kill(master);
    await waitUntil(
      async () =>
        (await cluster.nodes().catch(() => [])).some((n) => n.port === replica && n.role === 'master'),
      30_000,
      'the replica promoted',
    );
    await cluster.waitUntilHealthy();
    // The promoted master has no replica: its shard's appends are refused (not-replicated) until
    // the old master is back, as its replica.
    traffic.phase = 'alone';
    await traffic.waitFor('alone', 'failed', 3);
    await cluster.restart(master);
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 60);

    const figures = await check();
    report('master-sigkill-replicated', figures);
    expect(
      traffic.sent.filter((s) => s.code === 'not-replicated').length,
      'refused while no replica held them',
    ).toBeGreaterThan(0);
    expect((await cluster.nodes()).find((n) => n.port === master)?.role, 'the old master').toBe('replica');
  }, 120_000);

  it('4b. with DURABILITY=local, a master cut off from its replica, SIGKILLed and not restarted, loses at most what its replica had not received (measured)', async () => {
    const { cluster, traffic } = await onCluster(10_005, { durability: 'local' });
    const { master, replica } = await shardOf(cluster, 0);
    traffic.start();
    await traffic.waitFor('before', 'accepted', 100);

    const partitionsOfTheShard = await shardPartitions(cluster, master);
    traffic.phase = 'cut';
    await cutReplication(cluster, master, 500);
    traffic.phase = 'outage';
    await cluster.kill(master);
    await waitUntil(
      async () =>
        (await cluster.nodes().catch(() => [])).some((n) => n.port === replica && n.role === 'master'),
      30_000,
      'the replica promoted',
    );
    await cluster.waitUntilHealthy();
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 60);

    const { lostEvents, ...figures } = await check(true);
    const shardEventsAcceptedWhileCut = traffic.sent
      .filter((r) => r.phase === 'cut' && r.outcome === 'accepted')
      .flatMap((r) => r.events)
      .filter((e) => partitionsOfTheShard.has(partitionFor(e.userId, PARTITIONS))).length;
    report('master-sigkill-local', { ...figures, shardEventsAcceptedWhileCut });
    // What a failover can lose is what the killed master alone held: events of its partitions.
    expect(
      lostEvents!.filter((e) => !partitionsOfTheShard.has(partitionFor(e.userId, PARTITIONS))),
      'events lost on shards that did not fail',
    ).toEqual([]);
  }, 120_000);

  it('5. counts every event answered 202 exactly once while the slot of a busy partition is resharded', async () => {
    const { cluster, traffic } = await onCluster(10_006);
    const slot = keySlot(partitionTag(NAME, 0));
    const { master } = await shardOf(cluster, 0);
    const target = (await cluster.nodes()).find((n) => n.role === 'master' && n.port !== master)!.port;
    traffic.start();
    await traffic.waitFor('before', 'accepted', 60);

    traffic.phase = 'reshard';
    await cluster.reshardSlot(slot, target);
    expect(await cluster.masterOf(slot), 'partition 0 moved').toBe(target);
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 60);

    const figures = await check();
    report('reshard', { ...figures, from: master, to: target });
    // A redirection means Redis ran nothing: the appends it refused are sent again, none refused.
    expect(figures.refusals, 'requests refused while the slot moved').toEqual({});
  }, 120_000);

  it('6. answers a read that needs a shard that hangs or is down with 503 and a clear error', async () => {
    const { cluster, service, traffic } = await onCluster(10_007, { env: { REDIS_READ_TIMEOUT_MS: '1000' } });
    traffic.start();
    await traffic.waitFor('before', 'accepted', 20);
    await traffic.stop();
    const [event] = traffic.accepted();
    const rankUrl = `${service.url}/v1/boards/${event!.board}/users/${event!.userId}`;
    await waitUntil(async () => (await fetch(rankUrl)).status === 200, 30_000, 'the user ranked');
    const read = async (situation: string) => {
      const started = Date.now();
      const res = await fetch(rankUrl, { signal: AbortSignal.timeout(30_000) });
      const elapsedMs = Date.now() - started;
      const body = (await res.json()) as { error: { code: string; message: string } };
      report('shard-down-read', { situation, status: res.status, elapsedMs, body });
      expect(res.status, situation).toBe(503);
      expect(res.headers.get('retry-after'), situation).toBe('1');
      expect(body.error.code, situation).toBe('unavailable');
      expect(body.error.message, situation).toMatch(/Redis/);
    };

    // A rank needs every partition: partition 0's shard stops answering (master and replica
    // paused, so nothing takes over), its connections stay open, and the read waits no longer
    // than REDIS_READ_TIMEOUT_MS.
    const { master, replica } = await shardOf(cluster, 0);
    const survivorPort = (await cluster.nodes()).find((n) => n.port !== master && n.port !== replica)!.port;
    const pids = await Promise.all(
      [master, replica].map(async (port) => {
        const node = cluster.client(port);
        const info = await node.info('server').finally(() => node.disconnect());
        return Number(/^process_id:(\d+)/m.exec(info)![1]);
      }),
    );
    const resume = () => {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    };
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      await read('the shard hangs');
      // The other nodes mark it failed: the whole cluster answers CLUSTERDOWN.
      const survivor = cluster.client(survivorPort);
      await waitUntil(
        async () => ((await survivor.cluster('INFO')) as string).includes('cluster_state:fail'),
        30_000,
        'the cluster to mark the shard failed',
      ).finally(() => survivor.disconnect());
      await read('the cluster is down');
    } finally {
      resume();
    }
    // Killed: its connections are refused.
    await cluster.kill(replica);
    await cluster.kill(master);
    await read('the shard is gone');
  }, 120_000);

  it('7. behind Sentinel with DURABILITY=replicated, counts every event answered 202 after the primary is SIGKILLed', async () => {
    sentinel = await startSentinelGroup();
    service = await startDrillService(
      {
        REDIS_SENTINELS: sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: sentinel.name,
        DURABILITY: 'replicated',
      },
      { workers: 1, name: NAME, partitions: PARTITIONS },
    );
    inspect = sentinel.connect();
    traffic = new DrillTraffic({ base: service.url, key: service.key, seed: 10_008 });
    await traffic.putBoards();
    traffic.start();
    await traffic.waitFor('before', 'accepted', 60);

    traffic.phase = 'outage';
    const primary = sentinel.primaryPort;
    await sentinel.kill(primary);
    await waitUntil(
      async () => (await sentinel!.currentPrimary().catch(() => primary)) === sentinel!.replicaPort,
      30_000,
      'the sentinels to promote the replica',
    );
    traffic.phase = 'alone';
    await traffic.waitFor('alone', 'failed', 3);
    await sentinel.restart(primary);
    traffic.phase = 'after';
    await traffic.waitFor('after', 'accepted', 60);

    const figures = await check();
    report('sentinel-primary-sigkill-replicated', figures);
    expect(
      traffic.count('outage', 'failed') + traffic.count('alone', 'failed'),
      'refused during the failover',
    ).toBeGreaterThan(0);
  }, 120_000);
});
