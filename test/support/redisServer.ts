/**
 * The tests' private `redis-server`: the same helper the service and the benchmark runner use
 * (`server/redisServerProcess.ts`), so that there is one copy of it; and `freePorts` for the
 * helpers that start several servers at once.
 */
import { createServer, type Server } from 'node:net';

export type { RedisServerHandle, RedisServerOptions } from '../../server/redisServerProcess.js';
export { freePort, startRedisServer } from '../../server/redisServerProcess.js';

/**
 * Distinct free ports: each is held open until all are found, so that the kernel cannot hand the
 * same port out twice (as concurrent `freePort()` calls may, each closing its port before the
 * next asks).
 *
 * @example
 * const [a, b, c] = await freePorts(3);
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((server) => {
      const address = server.address();
      return typeof address === 'object' && address ? address.port : 0;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
