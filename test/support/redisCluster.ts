/**
 * A real Redis Cluster for tests: `redis-server` processes with `cluster-enabled yes` on free
 * ports, joined by `redis-cli --cluster create`, with the operations the failover drills need
 * (kill and restart a node, a coordinated failover, moving one slot with the real
 * `SETSLOT IMPORTING/MIGRATING` + `MIGRATE` + `SETSLOT NODE` sequence).
 *
 * Needs `redis-server` and `redis-cli` on the PATH (Debian: `redis-server` and `redis-tools`).
 * Nodes run with `cluster-node-timeout` 1000 ms, so a killed master's replica takes over within
 * a few seconds, and with `cluster-replica-validity-factor 0`, so a replica may always take over
 * (a drill's replica may have been cut off for a while).
 *
 * Two ways to use it:
 * - A destructive drill (kills nodes, kills client connections, moves slots) starts its own in
 *   `beforeAll` and stops it in `afterAll`:
 *   `cluster = await startRedisCluster(); ... await cluster.stop();`
 * - A test that only reads and writes its own keys uses the run's shared cluster, started by the
 *   vitest global setup (`test/support/globalSetup.ts`) in the background:
 *   `const seeds = await sharedClusterSeeds()` from `test/support/redis.ts`, then
 *   `connectCluster(seeds)`. Such tests put their keys under a random name and never change the
 *   cluster's topology.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { freePorts, type RedisServerHandle, startRedisServer } from './redisServer.js';

const run = promisify(execFile);
const HOST = '127.0.0.1';

export interface RedisClusterOptions {
  /** Masters (each gets a share of the 16384 slots). Default 3. */
  masters?: number;
  /** Replicas of each master. Default 1. */
  replicasPerMaster?: number;
  /** AOF on every node. Default false (nothing on disk: a restarted node comes back empty). */
  appendonly?: boolean;
  /** `cluster-node-timeout`, ms: how soon a silent node is failed over. Default 1000. */
  nodeTimeoutMs?: number;
  /** More `redis-server` settings for every node, e.g. `{ 'cluster-require-full-coverage': 'no' }`. */
  extraConfig?: Record<string, string | number>;
  /** Use these ports (as many as nodes) instead of free ones: the global setup announces them first. */
  ports?: number[];
  /** Aborts the start: the nodes started so far are stopped and the promise rejects. */
  signal?: AbortSignal;
}

export interface ClusterNodeState {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** The master's port, for a replica. */
  masterPort?: number;
  /** Slot ranges served, for a master. */
  slots: [number, number][];
  /** Flagged as failing (`fail` or `fail?`) by the node that was asked. */
  failing: boolean;
}

export interface SlotRange {
  start: number;
  end: number;
  /** The master's port. */
  master: number;
  replicas: number[];
}

export interface RedisClusterHandle {
  /** `host:port` of every node started, masters and replicas: the seed list (`REDIS_CLUSTER`). */
  seeds: string[];
  /** Every node's port, in start order. */
  ports: number[];
  /** The cluster's temporary directory (one folder per node, with its log). */
  dir: string;
  /** The nodes as a live node sees them now: roles, masters, slots. */
  nodes(): Promise<ClusterNodeState[]>;
  /** An ioredis Cluster client on the seeds; clients still open are disconnected by `stop()`. */
  connect(options?: ClusterOptions): Cluster;
  /** A plain connection to one node (the caller quits it). */
  client(port: number, options?: RedisOptions): Redis;
  /** Which master serves each slot range, from `CLUSTER SLOTS`. */
  mastersBySlot(): Promise<SlotRange[]>;
  /** The port of the master serving a slot. */
  masterOf(slot: number): Promise<number>;
  /** Kills a node (SIGKILL by default) and waits for it to exit; its directory stays for `restart`. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed node again on its port and directory; it rejoins the cluster. */
  restart(port: number): Promise<void>;
  /**
   * Promotes a replica: `CLUSTER FAILOVER` (`FORCE` when its master is not running), then waits
   * until it is a master and every running node agrees.
   */
  failover(replicaPort: number): Promise<void>;
  /** Moves one slot, with its keys, to another master, as `redis-cli --cluster reshard` does. */
  reshardSlot(slot: number, toMasterPort: number): Promise<void>;
  /**
   * Waits until every running node says `cluster_state:ok`, they all agree on who serves which
   * slot, nobody flags a running node as failing, and every running replica is in sync.
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the temporary directory. */
  stop(): Promise<void>;
}

interface NodeProcess {
  port: number;
  dir: string;
  server?: RedisServerHandle;
}

/**
 * Starts a cluster and waits until it is healthy.
 *
 * @example
 * const cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
 * const redis = cluster.connect();
 * await redis.set('{user:1}:name', 'Ada');
 * await cluster.stop();
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const count = masters * (1 + replicas);
  if (!Number.isInteger(masters) || masters < 1 || !Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`a cluster needs at least one master and zero or more replicas each`);
  }
  const ports = options.ports ?? (await freePorts(count));
  if (ports.length !== count) throw new Error(`${count} nodes need ${count} ports, got ${ports.length}`);
  const dir = mkdtempSync(join(tmpdir(), 'lb-cluster-'));
  const nodes = new Map<number, NodeProcess>(
    ports.map((port) => [port, { port, dir: join(dir, String(port)) }] as const),
  );
  const args = nodeArgs(options);
  const clients = new Set<Cluster>();
  const seeds = ports.map((port) => `${HOST}:${port}`);
  const running = () => [...nodes.values()].filter((n) => n.server).map((n) => n.port);

  async function startNode(node: NodeProcess): Promise<void> {
    mkdirSync(node.dir, { recursive: true });
    node.server = await startRedisServer({ port: node.port, dir: node.dir, args });
  }

  async function stop(): Promise<void> {
    for (const client of clients) client.disconnect();
    clients.clear();
    await Promise.all(
      [...nodes.values()].map(async (node) => {
        await node.server?.stop('SIGKILL');
        node.server = undefined;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  }

  const handle: RedisClusterHandle = {
    seeds,
    ports,
    dir,
    nodes: () => withNode(running(), (redis) => clusterNodes(redis)),
    connect(clusterOptions = {}) {
      const client = connectCluster(seeds, clusterOptions);
      clients.add(client);
      client.once('end', () => clients.delete(client));
      return client;
    },
    client: (port, redisOptions) => plainClient(port, redisOptions),
    mastersBySlot: () => withNode(running(), (redis) => slotRanges(redis)),
    async masterOf(slot) {
      const range = (await handle.mastersBySlot()).find((r) => r.start <= slot && slot <= r.end);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range.master;
    },
    async kill(port, signal = 'SIGKILL') {
      const node = nodeOf(nodes, port);
      await node.server?.stop(signal);
      node.server = undefined;
    },
    async restart(port) {
      const node = nodeOf(nodes, port);
      if (node.server) throw new Error(`node ${port} is running`);
      await startNode(node);
      await handle.waitUntilHealthy();
    },
    async failover(replicaPort) {
      const states = await handle.nodes();
      const replica = states.find((n) => n.port === replicaPort);
      if (replica?.role !== 'replica') throw new Error(`node ${replicaPort} is not a replica`);
      const masterRunning = replica.masterPort !== undefined && running().includes(replica.masterPort);
      await withClient(replicaPort, (redis) =>
        masterRunning ? redis.cluster('FAILOVER') : redis.call('CLUSTER', 'FAILOVER', 'FORCE'),
      );
      await waitFor(
        async () =>
          (await withClient(replicaPort, (redis) => redis.info('replication'))).includes('role:master'),
        15_000,
        `node ${replicaPort} to be promoted`,
      );
      await handle.waitUntilHealthy();
    },
    async reshardSlot(slot, toMasterPort) {
      await moveSlot(await handle.nodes(), slot, toMasterPort);
      await handle.waitUntilHealthy();
    },
    waitUntilHealthy: (timeoutMs = 20_000) => waitUntilHealthy(running(), timeoutMs),
    stop,
  };

  const aborted = () => {
    if (options.signal?.aborted) throw new Error('the cluster start was aborted');
  };
  try {
    await Promise.all([...nodes.values()].map(startNode));
    aborted();
    await createCluster(seeds, replicas, dir);
    aborted();
    await waitUntilHealthy(ports, 30_000, options.signal);
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * An ioredis Cluster client on `host:port` seeds, e.g. those of `startRedisCluster` or of the
 * shared cluster (`sharedClusterSeeds()`).
 *
 * @example
 * const redis = connectCluster(await sharedClusterSeeds());
 */
export function connectCluster(seeds: readonly string[], options: ClusterOptions = {}): Cluster {
  const client = new Cluster(seeds.map(parseAddress), options);
  // Failovers and killed connections are what the drills are about: the commands report them.
  client.on('error', () => {});
  return client;
}

/**
 * Waits until the cluster on these seeds is healthy (as `waitUntilHealthy`): for a test that uses
 * a cluster someone else started, such as the run's shared one.
 *
 * @example
 * await waitForCluster(process.env.REDIS_CLUSTER!.split(','));
 */
export async function waitForCluster(seeds: readonly string[], timeoutMs = 30_000): Promise<void> {
  await waitUntilHealthy(
    seeds.map((s) => parseAddress(s).port),
    timeoutMs,
  );
}

function nodeArgs(options: RedisClusterOptions): string[] {
  const config: Record<string, string | number> = {
    'cluster-enabled': 'yes',
    'cluster-config-file': 'nodes.conf',
    'cluster-node-timeout': options.nodeTimeoutMs ?? 1000,
    'cluster-replica-validity-factor': 0,
    // A replica's first sync starts at once instead of waiting 5 s for more replicas.
    'repl-diskless-sync-delay': 0,
    // A replica appears in CLUSTER SLOTS once its replication offset is above 0; the master's
    // pings move it (every 10 s by default).
    'repl-ping-replica-period': 1,
    appendonly: options.appendonly ? 'yes' : 'no',
    ...options.extraConfig,
  };
  return Object.entries(config).flatMap(([key, value]) => [`--${key}`, String(value)]);
}

async function createCluster(seeds: string[], replicas: number, dir: string): Promise<void> {
  const args = ['--cluster', 'create', ...seeds, '--cluster-replicas', String(replicas), '--cluster-yes'];
  try {
    await run('redis-cli', args, { timeout: 30_000 });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `redis-cli --cluster create failed (is redis-cli installed?): ${output.message}\n${output.stdout ?? ''}${
        output.stderr ?? ''
      }\nnode logs in ${dir}`,
    );
  }
}

async function waitUntilHealthy(ports: number[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  let last = 'not checked yet';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error('the cluster start was aborted');
    try {
      const problem = await healthProblem(ports);
      if (!problem) return;
      last = problem;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline)
      throw new Error(`the cluster did not become healthy in ${timeoutMs} ms: ${last}`);
    await sleep(50);
  }
}

/** What keeps the cluster on these (running) nodes from being healthy, or undefined. */
async function healthProblem(ports: number[]): Promise<string | undefined> {
  const views = await Promise.all(
    ports.map((port) =>
      withClient(port, async (redis) => {
        const [info, nodes, replication, slots] = await Promise.all([
          redis.cluster('INFO') as Promise<string>,
          clusterNodes(redis),
          redis.info('replication'),
          slotRanges(redis),
        ]);
        return { port, info, nodes, replication, slots };
      }),
    ),
  );
  let agreed: string | undefined;
  for (const view of views) {
    if (!view.info.includes('cluster_state:ok')) return `node ${view.port}: cluster_state is not ok`;
    const failing = view.nodes.find((n) => n.failing && ports.includes(n.port));
    if (failing) return `node ${view.port} flags running node ${failing.port} as failing`;
    const self = view.nodes.find((n) => n.port === view.port);
    if (self?.role === 'replica') {
      if (!view.replication.includes('master_link_status:up')) return `replica ${view.port} is not linked`;
      if (!view.replication.includes('master_sync_in_progress:0')) return `replica ${view.port} is syncing`;
    }
    const listed = new Set(view.slots.flatMap((r) => r.replicas));
    const serving = new Set(view.nodes.filter((n) => n.slots.length > 0).map((n) => n.port));
    const unlisted = view.nodes.find(
      (n) =>
        n.role === 'replica' &&
        ports.includes(n.port) &&
        serving.has(n.masterPort ?? -1) &&
        !listed.has(n.port),
    );
    if (unlisted) return `node ${view.port} does not list replica ${unlisted.port} in CLUSTER SLOTS yet`;
    const layout = view.nodes
      .filter((n) => n.role === 'master' && n.slots.length > 0)
      .map((n) => `${n.port}:${n.slots.map(([a, b]) => `${a}-${b}`).join(',')}`)
      .sort()
      .join(' ');
    if (agreed === undefined) agreed = layout;
    else if (layout !== agreed) return `nodes disagree on the slots: ${agreed} / ${layout}`;
  }
  return undefined;
}

/** Parses `CLUSTER NODES`. Slots being migrated (`[slot->-id]`) are left out. */
async function clusterNodes(redis: Redis): Promise<ClusterNodeState[]> {
  const text = (await redis.cluster('NODES')) as string;
  const rows = text
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const portOf = new Map(rows.map((r) => [r[0]!, parseAddress(r[1]!.split('@')[0]!).port]));
  return rows.map((r) => {
    const flags = r[2]!.split(',');
    const slots = r
      .slice(8)
      .filter((s) => !s.startsWith('['))
      .map((s) => {
        const [a, b] = s.split('-');
        return [Number(a), Number(b ?? a)] as [number, number];
      });
    return {
      id: r[0]!,
      port: portOf.get(r[0]!)!,
      role: flags.includes('master') ? 'master' : 'replica',
      masterPort: r[3] === '-' ? undefined : portOf.get(r[3]!),
      slots,
      failing: flags.includes('fail') || flags.includes('fail?'),
    };
  });
}

async function slotRanges(redis: Redis): Promise<SlotRange[]> {
  type Node = [host: string, port: number, ...rest: unknown[]];
  const reply = (await redis.cluster('SLOTS')) as unknown as [number, number, Node, ...Node[]][];
  return reply
    .map(([start, end, master, ...replicas]) => ({
      start,
      end,
      master: Number(master[1]),
      replicas: replicas.map((r) => Number(r[1])),
    }))
    .sort((a, b) => a.start - b.start);
}

/** Moves one slot and its keys from its master to another: the steps of `redis-cli --cluster reshard`. */
async function moveSlot(states: ClusterNodeState[], slot: number, toPort: number): Promise<void> {
  const target = states.find((n) => n.port === toPort);
  if (target?.role !== 'master') throw new Error(`node ${toPort} is not a master`);
  const source = states.find((n) => n.role === 'master' && n.slots.some(([a, b]) => a <= slot && slot <= b));
  if (!source) throw new Error(`no master serves slot ${slot}`);
  if (source.port === toPort) return;
  await withClient(toPort, (r) => r.cluster('SETSLOT', slot, 'IMPORTING', source.id));
  await withClient(source.port, async (r) => {
    await r.cluster('SETSLOT', slot, 'MIGRATING', target.id);
    for (;;) {
      const keys = (await r.cluster('GETKEYSINSLOT', slot, 100)) as string[];
      if (keys.length === 0) break;
      await r.call('MIGRATE', HOST, toPort, '', 0, 10_000, 'KEYS', ...keys);
    }
  });
  // The target first, so that it owns the slot before the source stops redirecting with ASK.
  await withClient(toPort, (r) => r.cluster('SETSLOT', slot, 'NODE', target.id));
  await withClient(source.port, (r) => r.cluster('SETSLOT', slot, 'NODE', target.id));
  const others = states.filter((n) => n.role === 'master' && n.port !== toPort && n.port !== source.port);
  await Promise.all(
    others.map((n) =>
      withClient(n.port, (r) => r.cluster('SETSLOT', slot, 'NODE', target.id)).catch(() => {}),
    ),
  );
}

function plainClient(port: number, options: RedisOptions = {}): Redis {
  const redis = new Redis({
    host: HOST,
    port,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    ...options,
  });
  redis.on('error', () => {});
  return redis;
}

async function withClient<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = plainClient(port);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Asks the first running node that answers. */
async function withNode<T>(ports: number[], use: (redis: Redis) => Promise<T>): Promise<T> {
  let lastError: unknown = new Error('no node is running');
  for (const port of ports) {
    try {
      return await withClient(port, use);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function nodeOf(nodes: Map<number, NodeProcess>, port: number): NodeProcess {
  const node = nodes.get(port);
  if (!node) throw new Error(`no node of this cluster listens on ${port}`);
  return node;
}

function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
