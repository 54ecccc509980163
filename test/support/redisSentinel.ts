/**
 * A Redis Sentinel group for tests: one primary, one replica and three sentinels (quorum 2) on
 * free ports, with a short `down-after-milliseconds` (1000) and `failover-timeout` (3000), so a
 * killed primary is replaced within a few seconds.
 *
 * The sentinels run Debian's `redis-sentinel` (package `redis-sentinel`) when it is on the PATH,
 * and otherwise `redis-server <conf> --sentinel`: the same program in sentinel mode, so the
 * `redis-server` package alone is enough.
 *
 * A drill starts its own group in `beforeAll` (it kills nodes) and stops it in `afterAll`:
 * `group = await startSentinelGroup(); const redis = group.connect(); ... await group.stop();`
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { freePorts, type RedisServerHandle, startRedisServer } from './redisServer.js';

const HOST = '127.0.0.1';

export interface SentinelGroupOptions {
  /** The name the sentinels monitor the primary under. Default `mymaster`. */
  name?: string;
  /** Sentinels' `down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
  /** Sentinels' `failover-timeout`. Default 3000. */
  failoverTimeoutMs?: number;
}

export interface SentinelGroupHandle {
  name: string;
  /** The sentinels' addresses (`REDIS_SENTINELS`). */
  sentinels: { host: string; port: number }[];
  /** The port of the node started as primary. */
  primaryPort: number;
  /** The port of the node started as replica. */
  replicaPort: number;
  /** Where the sentinels say the primary is now. */
  currentPrimary(): Promise<number>;
  /** A sentinel-managed ioredis client: it asks the sentinels for the primary and follows it. */
  connect(options?: RedisOptions): Redis;
  /** Kills a node or a sentinel by its port (SIGKILL by default) and waits for it to exit. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts a killed node again on its port and directory, as it was started (the old primary
   * comes back as a primary; the sentinels then turn it into a replica of the promoted one), and
   * waits until it is a replica in sync.
   */
  restart(port: number): Promise<void>;
  /** Kills everything and removes the temporary directory. */
  stop(): Promise<void>;
}

/**
 * Starts a primary, its replica and three sentinels, and waits until every sentinel names the
 * same primary and knows the replica and the two other sentinels.
 *
 * @example
 * const group = await startSentinelGroup();
 * const redis = group.connect();
 * await group.kill(await group.currentPrimary()); // the replica takes over
 */
export async function startSentinelGroup(options: SentinelGroupOptions = {}): Promise<SentinelGroupHandle> {
  const name = options.name ?? 'mymaster';
  const dir = mkdtempSync(join(tmpdir(), 'lb-sentinel-'));
  const servers = new Map<number, RedisServerHandle>();
  /** How each node was started, for `restart`. */
  const started = new Map<number, { dir: string; args: string[] }>();
  const sentinels = new Map<number, ChildProcess>();
  const clients = new Set<Redis>();

  async function stop(): Promise<void> {
    for (const client of clients) client.disconnect();
    clients.clear();
    await Promise.all([...sentinels.keys(), ...servers.keys()].map((port) => kill(port)));
    rmSync(dir, { recursive: true, force: true });
  }

  async function kill(port: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const server = servers.get(port);
    if (server) {
      servers.delete(port);
      await server.stop(signal);
      return;
    }
    const sentinel = sentinels.get(port);
    if (!sentinel) throw new Error(`nothing of this group listens on ${port}`);
    sentinels.delete(port);
    if (sentinel.exitCode === null && sentinel.signalCode === null) {
      const exited = new Promise((resolve) => sentinel.once('exit', resolve));
      sentinel.kill(signal);
      await exited;
    }
  }

  try {
    const primary = await startNode(dir, 'primary', NODE_ARGS);
    servers.set(primary.port, primary);
    started.set(primary.port, { dir: primary.dir, args: NODE_ARGS });
    const replicaArgs = [...NODE_ARGS, '--replicaof', HOST, String(primary.port)];
    const replica = await startNode(dir, 'replica', replicaArgs);
    servers.set(replica.port, replica);
    started.set(replica.port, { dir: replica.dir, args: replicaArgs });
    // The sentinels learn the replica from the primary's INFO on their first contact: it must be
    // attached by then, or they find it only at their next INFO, 10 s later.
    await waitFor(() => replicaInSync(replica.port), 10_000, 'the replica to sync');
    const ports = await freePorts(3);
    const command = sentinelCommand();
    for (const port of ports) {
      sentinels.set(port, startSentinel(dir, port, command, name, primary.port, options));
    }
    const addresses = ports.map((port) => ({ host: HOST, port }));
    await waitFor(() => sentinelsAgree(ports, name, primary.port), 20_000, 'the sentinels to agree');
    return {
      name,
      sentinels: addresses,
      primaryPort: primary.port,
      replicaPort: replica.port,
      currentPrimary: () => primaryOf([...sentinels.keys()], name),
      connect(redisOptions = {}) {
        const client = new Redis({ sentinels: addresses, name, ...redisOptions });
        client.on('error', () => {}); // a failover shows in the commands that fail meanwhile
        clients.add(client);
        client.once('end', () => clients.delete(client));
        return client;
      },
      kill,
      async restart(port) {
        const how = started.get(port);
        if (!how) throw new Error(`no node of this group was started on ${port}`);
        if (servers.has(port)) throw new Error(`node ${port} is running`);
        servers.set(port, await startRedisServer({ port, dir: how.dir, args: how.args }));
        await waitFor(() => replicaInSync(port), 30_000, `node ${port} to become a replica in sync`);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

const NODE_ARGS = ['--repl-diskless-sync-delay', '0'];

function startNode(dir: string, label: string, args: string[]): Promise<RedisServerHandle> {
  const nodeDir = join(dir, label);
  mkdirSync(nodeDir);
  return startRedisServer({ dir: nodeDir, args });
}

/** `redis-sentinel` when installed, else `redis-server ... --sentinel` (the same binary). */
function sentinelCommand(): { program: string; modeArgs: string[] } {
  try {
    execFileSync('which', ['redis-sentinel'], { stdio: 'ignore' });
    return { program: 'redis-sentinel', modeArgs: [] };
  } catch {
    return { program: 'redis-server', modeArgs: ['--sentinel'] };
  }
}

function startSentinel(
  dir: string,
  port: number,
  command: { program: string; modeArgs: string[] },
  name: string,
  primaryPort: number,
  options: SentinelGroupOptions,
): ChildProcess {
  const sentinelDir = join(dir, `sentinel-${port}`);
  mkdirSync(sentinelDir);
  // A sentinel rewrites its configuration file (what it learned, its id): each has its own.
  const conf = join(sentinelDir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      `bind ${HOST}`,
      'daemonize no',
      `dir ${sentinelDir}`,
      `logfile ${join(sentinelDir, 'sentinel.log')}`,
      `sentinel monitor ${name} ${HOST} ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3000}`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn(command.program, [conf, ...command.modeArgs], { stdio: 'ignore' });
  child.on('error', () => {}); // a missing binary shows as sentinels that never answer
  return child;
}

async function replicaInSync(port: number): Promise<boolean> {
  const info = await ask(port, (r) => r.info('replication'));
  return info.includes('master_link_status:up') && info.includes('master_sync_in_progress:0');
}

async function sentinelsAgree(ports: number[], name: string, primaryPort: number): Promise<boolean> {
  const views = await Promise.all(
    ports.map((port) => ask(port, (r) => r.call('SENTINEL', 'MASTER', name) as Promise<string[]>)),
  );
  return views.every((flat) => {
    const view = toRecord(flat);
    return (
      view.port === String(primaryPort) &&
      view.flags === 'master' &&
      view['num-slaves'] === '1' &&
      view['num-other-sentinels'] === String(ports.length - 1)
    );
  });
}

async function primaryOf(ports: number[], name: string): Promise<number> {
  for (const port of ports) {
    try {
      const address = (await ask(port, (r) =>
        r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name),
      )) as string[];
      if (address) return Number(address[1]);
    } catch {
      // try the next sentinel
    }
  }
  throw new Error(`no sentinel names a primary for ${name}`);
}

async function ask<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: HOST, port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

function toRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
