/**
 * A private Redis Cluster for a benchmark group: `masters` `redis-server` processes with
 * `cluster-enabled yes` (no replicas, no persistence) on free ports, each given an equal range of
 * the slots, and the per-node counters the group reads its costs from
 * (`INFO cpu`, `INFO commandstats`). The tests' cluster helper (`test/support/redisCluster.ts`)
 * does much more (failovers, reshards); a benchmark only needs the cluster up and its counters.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort, type RedisServerHandle, startRedisServer } from '../../server/redisServerProcess.js';

export interface ClusterTarget {
  /** `127.0.0.1:<port>` of every master: the seed list (`REDIS_CLUSTER`). */
  seeds: string[];
  ports: number[];
  /** Every node's counters now. */
  counters(): Promise<NodeCounters[]>;
  stop(): Promise<void>;
}

export interface NodeCounters {
  port: number;
  /** `used_cpu_sys + used_cpu_user`, µs: all of the server's threads. */
  cpuMicros: number;
  /** Sum of every command's `usec` in `INFO commandstats`: time spent running commands. */
  commandMicros: number;
  /** `usec` per command name (`evalsha`, `xadd`, ...). */
  commands: Record<string, number>;
  usedMemoryBytes: number;
}

/**
 * @example
 * const cluster = await startClusterTarget(3);
 * const before = await cluster.counters();
 * await cluster.stop();
 */
export async function startClusterTarget(masters: number): Promise<ClusterTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'lb-bench-cluster-'));
  const servers: RedisServerHandle[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      servers.push(
        await startRedisServer({
          port,
          dir: nodeDir,
          // A lone node has not learned its own address from a peer: it would announce none.
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-announce-ip',
            '127.0.0.1',
          ],
        }),
      );
    }
    const seeds = servers.map((s) => `127.0.0.1:${s.port}`);
    await joinCluster(servers.map((s) => s.port));
    await waitUntilOk(servers.map((s) => s.port));
    return {
      seeds,
      ports: servers.map((s) => s.port),
      counters: () => Promise.all(servers.map((s) => nodeCounters(s.port))),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * What happened on the nodes between two readings: CPU and command time in µs, summed over the
 * nodes, and each node's share of the CPU.
 *
 * @example
 * const spent = counterDelta(before, await cluster.counters());
 * console.log(spent.cpuMicros / events, 'µs of Redis CPU per event');
 */
export function counterDelta(
  before: readonly NodeCounters[],
  after: readonly NodeCounters[],
): {
  cpuMicros: number;
  commandMicros: number;
  perNodeCpuMicros: number[];
  commands: Record<string, number>;
} {
  const perNodeCpuMicros = after.map((a, i) => a.cpuMicros - before[i]!.cpuMicros);
  const commands: Record<string, number> = {};
  after.forEach((a, i) => {
    for (const [name, usec] of Object.entries(a.commands)) {
      commands[name] = (commands[name] ?? 0) + usec - (before[i]!.commands[name] ?? 0);
    }
  });
  return {
    cpuMicros: perNodeCpuMicros.reduce((x, y) => x + y, 0),
    commandMicros: after.reduce((sum, a, i) => sum + a.commandMicros - before[i]!.commandMicros, 0),
    perNodeCpuMicros,
    commands,
  };
}

async function nodeCounters(port: number): Promise<NodeCounters> {
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  try {
    const [cpu, stats, memory] = await Promise.all([
      redis.info('cpu'),
      redis.info('commandstats'),
      redis.info('memory'),
    ]);
    const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0);
    const commands: Record<string, number> = {};
    for (const [, name, usec] of stats.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)) {
      commands[name!] = Number(usec);
    }
    return {
      port,
      cpuMicros: Math.round((seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6),
      commandMicros: Object.values(commands).reduce((a, b) => a + b, 0),
      commands,
      usedMemoryBytes: Number(/^used_memory:(\d+)/m.exec(memory)?.[1] ?? 0),
    };
  } finally {
    redis.disconnect();
  }
}

/**
 * Joins the nodes (`CLUSTER MEET`) and gives each an equal range of the 16384 slots
 * (`CLUSTER ADDSLOTSRANGE`), as `redis-cli --cluster create` does, which refuses fewer than 3.
 */
async function joinCluster(ports: number[]): Promise<void> {
  const slots = 16384;
  await Promise.all(
    ports.map(async (port, i) => {
      const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
      try {
        const start = Math.floor((i * slots) / ports.length);
        const end = Math.floor(((i + 1) * slots) / ports.length) - 1;
        await redis.call('CLUSTER', 'ADDSLOTSRANGE', start, end);
        if (i === 0)
          for (const other of ports.slice(1)) await redis.call('CLUSTER', 'MEET', '127.0.0.1', other);
      } finally {
        redis.disconnect();
      }
    }),
  );
}

async function waitUntilOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const states = await Promise.all(
      ports.map(async (port) => {
        const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
        try {
          const info = String(await redis.cluster('INFO'));
          return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${ports.length}`);
        } catch {
          return false;
        } finally {
          redis.disconnect();
        }
      }),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error('the benchmark cluster did not reach cluster_state:ok in 30 s');
    await sleep(50);
  }
}
