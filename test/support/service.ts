/**
 * The real service for tests: the test run's redis-server under a fresh key prefix, an in-memory
 * PGlite database, optional in-process workers, and the Hono app (call `app.request(...)`, no
 * socket) or a listening server.
 */
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { archiveStore, type Database, LeaderboardWorkers, openDatabase } from '../../leaderboard/index.js';
import { createApp } from '../../server/app.js';
import { parseApiKeys } from '../../server/auth/apiKeys.js';
import { type Config, loadConfig } from '../../server/config.js';
import { listenEdge } from '../../server/edgeServer.js';
import { createServices, type Services } from '../../server/services.js';
import { dropKeys, redisUrl, uniqueName } from './redis.js';

export const TEST_KEYS = {
  admin: 'test-admin-key',
  ingest: 'test-ingest-key',
  read: 'test-read-key',
};

export interface TestService {
  services: Services;
  app: ReturnType<typeof createApp>;
  config: Config;
  redis: Redis;
  /**
   * Starts a listening server (the service's, `server/edgeServer.ts`) on a free port; resolves
   * with its base URL. `honoOnly` turns its single-event fast path off.
   */
  listen(options?: { honoOnly?: boolean }): Promise<string>;
  /**
   * Stops the service. `keepState`: leaves its keys in Redis (a restart drill starts another
   * service on the same prefix); a database passed in as `db` is left open for the caller.
   */
  stop(options?: { keepState?: boolean }): Promise<void>;
}

export interface TestServiceOptions {
  workers?: boolean;
  env?: Record<string, string>;
  /** The key prefix; default a fresh one. Another service's prefix: the same state (a restart). */
  prefix?: string;
  /** An open store to use (and not close); default a new in-memory PGlite. */
  db?: Database;
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const prefix = options.prefix ?? uniqueName('svc');
  const config = loadConfig({
    REDIS_URL: redisUrl(),
    PARTITIONS: '4',
    KEY_PREFIX: prefix,
    API_KEYS: `${TEST_KEYS.admin}=ingest+admin+read,${TEST_KEYS.ingest}=ingest,${TEST_KEYS.read}=read`,
    REFRESH_MS: '20',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const redis = new Redis(config.REDIS_URL!);
  const db = options.db ?? (await openDatabase({}));
  const services = await createServices({ config, redis, db, keys: parseApiKeys(config.API_KEYS!) });
  if (options.workers) {
    services.workers = new LeaderboardWorkers({
      redis,
      boards: services.boards,
      name: prefix,
      partitions: config.PARTITIONS,
      refreshMs: config.REFRESH_MS,
      registry: services.registry,
      archive: archiveStore(db),
      consumer: { leaseMs: 2000, blockMs: 20 },
    });
    await services.workers.start();
  }
  const app = createApp(services, { live: { heartbeatMs: 500 } });
  const servers: Server[] = [];
  return {
    services,
    app,
    config,
    redis,
    async listen(listenOptions = {}) {
      const server = await listenEdge(app, services, { port: 0, hostname: '127.0.0.1', ...listenOptions });
      servers.push(server);
      const address = server.address();
      return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    },
    async stop(stopOptions = {}) {
      for (const server of servers) {
        const closing = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closing;
      }
      await services.workers?.stop();
      await services.close();
      if (!options.db) await db.close();
      if (!stopOptions.keepState) await dropKeys(redis, prefix);
      await redis.quit();
    },
  };
}
