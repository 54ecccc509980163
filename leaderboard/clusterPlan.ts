/**
 * Where the leaderboard's partitions live on a Redis Cluster (`leaderboard cluster plan`): the
 * partitions, keys and memory of each master, its replicas, and the redirections (MOVED, ASK)
 * each master has answered, so an operator sees that partitions spread evenly and that clients
 * find their keys' nodes.
 */
import type { Cluster, Redis } from 'ioredis';
import { isCluster, partitionShards } from 'redis-streams-consumer-groups';
import { DEFAULTS } from './defaults.js';

export interface MasterPlan {
  master: string;
  replicas: string[];
  partitions: number[];
  /** Keys the master holds (every family's, `DBSIZE`). */
  keys: number;
  usedMemoryBytes: number;
  /** Redirections it answered since it started (`INFO errorstats`), and during the watch, if any. */
  moved: number;
  ask: number;
  movedDuringWatch?: number;
  askDuringWatch?: number;
}

export interface ClusterPlan {
  cluster: boolean;
  partitions: number;
  masters: MasterPlan[];
  /** How long redirections were watched, ms (0: not watched). */
  watchedMs: number;
}

/**
 * @example
 * const plan = await clusterPlan(cluster, { partitions: 16, watchMs: 5000 });
 * for (const m of plan.masters) console.log(m.master, m.partitions.length, m.movedDuringWatch);
 */
export async function clusterPlan(
  redis: Redis | Cluster,
  options: { name?: string; partitions?: number; watchMs?: number } = {},
): Promise<ClusterPlan> {
  const name = options.name ?? DEFAULTS.name;
  const partitions = options.partitions ?? DEFAULTS.partitions;
  const watchMs = options.watchMs ?? 0;
  if (!isCluster(redis)) {
    const stats = await nodeStats(redis);
    return {
      cluster: false,
      partitions,
      watchedMs: 0,
      masters: [{ master: 'the one server', replicas: [], partitions: range(partitions), ...stats }],
    };
  }
  const shards = await partitionShards(redis, { name, partitions });
  const nodes = redis.nodes('master');
  const byMaster = new Map<string, MasterPlan>();
  for (const node of nodes) {
    const address = `${node.options.host}:${node.options.port}`;
    byMaster.set(address, { master: address, replicas: [], partitions: [], ...(await nodeStats(node)) });
  }
  for (const shard of shards) {
    const plan = byMaster.get(shard.master);
    if (!plan) continue;
    plan.partitions.push(shard.partition);
    plan.replicas = shard.replicas;
  }
  if (watchMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, watchMs));
    for (const node of nodes) {
      const plan = byMaster.get(`${node.options.host}:${node.options.port}`)!;
      const after = await nodeStats(node);
      plan.movedDuringWatch = after.moved - plan.moved;
      plan.askDuringWatch = after.ask - plan.ask;
    }
  }
  return {
    cluster: true,
    partitions,
    watchedMs: watchMs,
    masters: [...byMaster.values()].sort((a, b) => (a.master < b.master ? -1 : 1)),
  };
}

async function nodeStats(
  node: Redis,
): Promise<Pick<MasterPlan, 'keys' | 'usedMemoryBytes' | 'moved' | 'ask'>> {
  const [keys, memory, errors] = await Promise.all([
    node.dbsize(),
    node.info('memory'),
    node.info('errorstats'),
  ]);
  const field = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    keys,
    usedMemoryBytes: field(memory, /^used_memory:(\d+)/m),
    moved: field(errors, /^errorstat_MOVED:count=(\d+)/m),
    ask: field(errors, /^errorstat_ASK:count=(\d+)/m),
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
