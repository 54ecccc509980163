/**
 * Vitest global setup: one private `redis-server` for the whole run, on a free port, unless
 * `REDIS_URL` points the tests at another server. Every test isolates itself with a random prefix.
 */
import type { TestProject } from 'vitest/node';
import { type RedisServerHandle, startRedisServer } from './redisServer.js';

let server: RedisServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  const external = process.env.REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return;
  }
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
