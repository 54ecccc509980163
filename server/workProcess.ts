/**
 * `leaderboard work`: a process that only runs a worker pipeline, sharing the partitions with
 * every other worker of the group (on this machine or others) by leases. No HTTP, no reads: its
 * Redis connection, the boards (kept in step every second), the pipeline, and the archive of
 * closed windows, either in the relational store it opens or through its supervisor's.
 */
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import {
  type ArchiveStore,
  archiveStore,
  BoardRegistry,
  type Database,
  type LeaderboardWorkers,
  listBoards,
  openDatabase,
} from '../leaderboard/index.js';
import type { Config } from './config.js';
import { configuredWorkers } from './configuredWorkers.js';
import { connectRedis } from './redisConnection.js';

export interface WorkProcessOptions {
  /**
   * Where closed windows are archived; default: the relational store this process opens
   * (`DATABASE_URL`, or PGlite in `DATA_DIR`, which one process at a time may open).
   */
  archive?: ArchiveStore;
}

export interface RunningWorkProcess {
  workers: LeaderboardWorkers;
  stop(): Promise<void>;
}

/**
 * @example
 * const running = await startWorkProcess(loadConfig());
 * process.on('SIGTERM', () => void running.stop());
 */
export async function startWorkProcess(
  config: Config,
  options: WorkProcessOptions = {},
): Promise<RunningWorkProcess> {
  const log = pino({ level: config.LOG_LEVEL });
  const redis = connectRedis(config);
  redis.on('error', (error) => log.warn({ err: error.message }, 'redis connection error'));
  const db: Database | undefined = options.archive
    ? undefined
    : await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') });
  const name = config.KEY_PREFIX;
  // Without a store of its own, Redis' boards are the only ones it knows (the serving process
  // puts the stored ones back when Redis lost them).
  const boards = new BoardRegistry(redis, name, {
    maxBoards: config.MAX_BOARDS,
    seed: db ? () => listBoards(db) : undefined,
  });
  await boards.load();
  const boardSync = setInterval(() => void boards.sync().catch(() => {}), 1000);
  boardSync.unref();
  const workers = configuredWorkers(config, {
    redis,
    boards,
    registry: new Registry(),
    archive: options.archive ?? (db ? archiveStore(db) : undefined),
    log,
  });
  await workers.start();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(boardSync);
      await workers.stop();
      await db?.close();
      await redis.quit().catch(() => redis.disconnect());
    })();
    return stopping;
  };
  return { workers, stop };
}
