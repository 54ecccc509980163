/**
 * Starts the service: Redis (given, or a private child), the relational store (PostgreSQL, or
 * embedded PGlite), the workers, and the HTTP server; stops them gracefully on SIGTERM/SIGINT.
 */

import type { Server } from 'node:http';
import { join } from 'node:path';
import pino from 'pino';
import { archiveStore, openDatabase } from '../leaderboard/index.js';
import { generatedApiKey } from './apiKeyFile.js';
import { createApp } from './app.js';
import { type ApiKey, parseApiKeys } from './auth/apiKeys.js';
import type { Config } from './config.js';
import { configuredWorkers } from './configuredWorkers.js';
import { listenEdge } from './edgeServer.js';
import { openFileLimit } from './openFileLimit.js';
import { startPrivateRedis } from './privateRedis.js';
import { connectRedis, hasRedis } from './redisConnection.js';
import type { RedisServerHandle } from './redisServerProcess.js';
import { createServices, type Services } from './services.js';

export interface StartOptions {
  /** Worker pipelines to run in this process (0 or 1; more processes share partitions). */
  workers: number;
  /** Serve HTTP (false: workers only; `leaderboard work` runs `startWorkProcess` instead). */
  http: boolean;
}

export interface RunningService {
  url?: string;
  apiKey?: string;
  services: Services;
  stop(): Promise<void>;
  /**
   * Signals the private redis-server (if any) to shut down now, without waiting: for a second
   * Ctrl-C, when the process exits without its graceful stop (the server runs in its own process
   * group and would outlive it).
   */
  stopPrivateRedisNow(): void;
}

export async function startService(config: Config, options: StartOptions): Promise<RunningService> {
  const log = pino({ level: config.LOG_LEVEL });
  let privateRedis: RedisServerHandle | undefined;
  let redisUrl = config.REDIS_URL;
  if (!hasRedis(config)) {
    // Detached: Ctrl-C on `npm start` must not kill Redis under the workers' graceful stop. The
    // service stops it last (and at once on a second Ctrl-C, see cli.ts).
    privateRedis = await startPrivateRedis(config.DATA_DIR, config.APPENDFSYNC, { detached: true });
    redisUrl = privateRedis.url;
    log.info({ url: redisUrl, dir: privateRedis.dir }, 'started a private redis-server (AOF on)');
  }
  const redis = connectRedis(config, redisUrl);
  redis.on('error', (error) => log.warn({ err: error.message }, 'redis connection error'));
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') });

  let keys: ApiKey[];
  let apiKey: string | undefined;
  if (config.API_KEYS) {
    keys = parseApiKeys(config.API_KEYS);
  } else {
    apiKey = generatedApiKey(config.DATA_DIR).key;
    keys = parseApiKeys(`${apiKey}=ingest+admin+read`);
  }

  const services = await createServices({ config, redis, db, keys });
  if (options.workers > 0) {
    services.workers = configuredWorkers(config, {
      redis,
      boards: services.boards,
      registry: services.registry,
      // The workers archive the final tops of the windows that close on the partitions they own.
      archive: archiveStore(db),
      log,
    });
    await services.workers.start();
  }

  let server: Server | undefined;
  let url: string | undefined;
  if (options.http) {
    const onServerError = (error: unknown) => log.error({ err: error }, 'request failed');
    const app = createApp(services, { onServerError });
    const edge = await listenEdge(app, services, { port: config.PORT, hostname: config.HOST, onServerError });
    server = edge;
    log.info(
      {
        openFileLimit: openFileLimit(),
        maxConnections: edge.connectionLimits.maxConnections,
        maxConnectionsPerClient: config.MAX_CONNECTIONS_PER_CLIENT,
        maxLiveStreams: config.MAX_LIVE_STREAMS,
        maxLiveStreamsPerClient: config.MAX_LIVE_STREAMS_PER_CLIENT,
        anonymousRateLimitRps: config.ANONYMOUS_RATE_LIMIT_RPS,
        trustedProxies: config.TRUSTED_PROXIES || 'none',
      },
      'edge limits',
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    url = `http://${config.HOST}:${port}`;
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        // Live (SSE) connections never end by themselves.
        server.closeAllConnections();
      });
      await services.workers?.stop();
      await services.close();
      await db.close();
      await redis.quit().catch(() => redis.disconnect());
      await privateRedis?.stop();
    })();
    return stopping;
  };
  const stopPrivateRedisNow = () => {
    privateRedis?.process.kill('SIGTERM');
  };
  return { url, apiKey, services, stop, stopPrivateRedisNow };
}
