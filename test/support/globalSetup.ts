/**
 * Vitest global setup: one private `redis-server` for the whole run, on a free port, unless
 * `REDIS_URL` points the tests at another server. Every test isolates itself with a random prefix.
 *
 * It also starts the run's shared Redis Cluster (3 masters, 1 replica each; see
 * `redisCluster.ts`) in the background, unless `REDIS_CLUSTER` names the seeds of another one: its
 * ports are announced at once and the tests that use it wait for it (`sharedClusterSeeds()` in
 * `redis.ts`), so a run without cluster tests does not wait for it. Tests share it, so none of
 * them may change its topology or kill connections; the drills start their own.
 */
import type { TestProject } from 'vitest/node';
import { type RedisClusterHandle, startRedisCluster } from './redisCluster.js';
import { freePorts, type RedisServerHandle, startRedisServer } from './redisServer.js';

const SHARED_CLUSTER_NODES = 6;

let server: RedisServerHandle | undefined;
let cluster: Promise<RedisClusterHandle | undefined> | undefined;
const abortCluster = new AbortController();

export async function setup(project: TestProject): Promise<void> {
  const externalCluster = process.env.REDIS_CLUSTER;
  if (externalCluster) {
    project.provide(
      'redisClusterSeeds',
      externalCluster.split(',').map((s) => s.trim()),
    );
  } else {
    const ports = await freePorts(SHARED_CLUSTER_NODES);
    project.provide(
      'redisClusterSeeds',
      ports.map((port) => `127.0.0.1:${port}`),
    );
    // A failed start shows in the tests that wait for it, with this reason.
    cluster = startRedisCluster({ ports, signal: abortCluster.signal }).catch((error: unknown) => {
      if (!abortCluster.signal.aborted)
        console.warn(`the shared Redis Cluster did not start: ${String(error)}`);
      return undefined;
    });
  }
  const external = process.env.REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return;
  }
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
}

export async function teardown(): Promise<void> {
  abortCluster.abort();
  await (await cluster)?.stop();
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** `host:port` seeds of the run's shared Redis Cluster (it may still be starting). */
    redisClusterSeeds: string[];
  }
}
