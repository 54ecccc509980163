/**
 * The real service for the failover drills (`server/main.ts`, as `leaderboard serve` runs it: the
 * production Redis connection from the configuration, the edge over HTTP, PGlite under a
 * temporary DATA_DIR, and the workers when asked), on whatever Redis deployment the drill's
 * environment names: `REDIS_CLUSTER`, `REDIS_SENTINELS`, or `REDIS_URL`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.js';
import { type RunningService, startService } from '../../server/main.js';

export const DRILL_KEY = 'drill-key';

export interface DrillService {
  url: string;
  /** A key with every scope. */
  key: string;
  name: string;
  partitions: number;
  running: RunningService;
  stop(): Promise<void>;
  /** Removes the service's data directory now (for a stop that did not finish). */
  removeData(): void;
}

/**
 * @example
 * const service = await startDrillService({ REDIS_CLUSTER: cluster.seeds.join(',') }, { workers: 1 });
 * await fetch(`${service.url}/readyz`);
 * await service.stop();
 */
export async function startDrillService(
  env: Record<string, string>,
  options: { workers: 0 | 1; name?: string; partitions?: number },
): Promise<DrillService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lb-drill-data-'));
  const name = options.name ?? 'drill';
  const partitions = options.partitions ?? 16;
  const config = loadConfig({
    PORT: '0',
    PARTITIONS: String(partitions),
    KEY_PREFIX: name,
    API_KEYS: `${DRILL_KEY}=ingest+admin+read`,
    DATA_DIR: dataDir,
    REFRESH_MS: '20',
    RATE_LIMIT_RPS: '0',
    LOG_LEVEL: process.env.DRILL_LOG_LEVEL ?? 'silent',
    ...env,
  });
  let running: RunningService;
  try {
    running = await startService(config, { workers: options.workers, http: true });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: running.url!,
    key: DRILL_KEY,
    name,
    partitions,
    running,
    async stop() {
      try {
        await running.stop();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    removeData() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
