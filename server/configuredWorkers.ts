/**
 * The leaderboard's workers as the configuration sets them up, for every process that runs them
 * (`serve` with its in-process worker, `work`).
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ArchiveStore, type BoardRegistry, LeaderboardWorkers } from '../leaderboard/index.js';
import type { Config } from './config.js';

export interface WorkersInput {
  redis: Redis | Cluster;
  boards: BoardRegistry;
  registry: Registry;
  /** Where closed windows are archived; none: not archived by this process. */
  archive?: ArchiveStore;
  log: Logger;
}

/**
 * @example
 * const workers = configuredWorkers(config, { redis, boards, registry, archive: archiveStore(db), log });
 * await workers.start();
 */
export function configuredWorkers(config: Config, input: WorkersInput): LeaderboardWorkers {
  return new LeaderboardWorkers({
    redis: input.redis,
    boards: input.boards,
    name: config.KEY_PREFIX,
    partitions: config.PARTITIONS,
    refreshMs: config.REFRESH_MS,
    retentionMs: config.RETENTION_DAYS * 86_400_000,
    registry: input.registry,
    archive: input.archive,
    onError: (error) =>
      input.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'worker error'),
  });
}
