#!/usr/bin/env node
/**
 * `leaderboard serve|work|describe|replay|dlq`: the server and the workers in one process (the
 * default of `npm start`), or as separate processes sharing partitions, and the operations
 * commands, all configured by the environment.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { archiveStore, describeLeaderboard, openDatabase } from '../leaderboard/index.js';
import { archiveOverIpc, serveArchive } from './archiveChannel.js';
import { clusterCommand } from './commands/cluster.js';
import { deadLettersCommand } from './commands/deadLetters.js';
import { replayCommand, UsageError } from './commands/replay.js';
import { verifyCommand } from './commands/verify.js';
import { loadConfig } from './config.js';
import { startService } from './main.js';
import { RedisNotInstalledError } from './privateRedis.js';
import { hasRedis } from './redisConnection.js';
import { superviseWorkers } from './workerProcesses.js';
import { startWorkProcess } from './workProcess.js';

/** Set in the environment of the workers `work --processes N` forks: they archive through it. */
const ARCHIVE_VIA_SUPERVISOR = 'LEADERBOARD_ARCHIVE_VIA_SUPERVISOR';

const USAGE = `usage: leaderboard <command> [options]

commands:
  serve [--workers N]   HTTP server, plus N worker pipelines in this process (default 1)
  work [--processes N]  worker processes only, N of them (default: one per core; run more anywhere)
  describe              print the leaderboard topology
  replay --board B      rebuild a board from the retained streams, live (replay --help)
  dlq list|redrive      list or re-drive dead letters (dlq --help)
  verify [--board B]    compare every top-K snapshot with a fresh merge (verify --help)
  cluster plan          where the partitions live on a Redis Cluster (cluster --help)

environment: PORT, HOST, REDIS_URL, DATABASE_URL, PARTITIONS, API_KEYS, DATA_DIR, READS_REQUIRE_KEY,
  HIGH_WATER_MARK, RATE_LIMIT_RPS, RETENTION_DAYS, REFRESH_MS, APPENDFSYNC, LOG_LEVEL;
  Redis deployments: REDIS_CLUSTER (seed nodes), REDIS_SENTINELS + REDIS_SENTINEL_NAME, REDIS_USERNAME,
  REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD, REDIS_TLS, DURABILITY (local | replicated), REPLICA_WAIT_MS,
  REDIS_READ_TIMEOUT_MS;
  the edge's limits (README, "The edge under hostile clients"): ANONYMOUS_RATE_LIMIT_RPS, TRUSTED_PROXIES,
  MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT, MAX_LIVE_STREAMS, MAX_LIVE_STREAMS_PER_CLIENT, LIVE_STALL_MS,
  HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, SOCKET_IDLE_TIMEOUT_MS, CONNECTIONS_CHECK_MS,
  MAX_REQUESTS_PER_SOCKET`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'replay') return replayCommand(rest, loadConfig());
  if (command === 'dlq') return deadLettersCommand(rest, loadConfig());
  if (command === 'verify') return verifyCommand(rest, loadConfig());
  if (command === 'cluster') return clusterCommand(rest, loadConfig());
  const { values } = parseArgs({
    args: rest,
    options: { workers: { type: 'string' }, processes: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  if (command === 'describe') {
    console.log(describeLeaderboard());
    return 0;
  }
  if (command !== 'serve' && command !== 'work') {
    console.error(`unknown command '${command}'\n\n${USAGE}`);
    return 1;
  }
  const config = loadConfig();
  if (command === 'work') {
    if (values.workers !== undefined) {
      console.error('--workers is for serve (work runs its workers with --processes)');
      return 1;
    }
    const processes = Number(values.processes ?? availableParallelism());
    if (!Number.isInteger(processes) || processes < 1) {
      console.error('--processes must be a positive integer');
      return 1;
    }
    if (!hasRedis(config)) {
      console.error('work needs the Redis the service uses: set REDIS_URL, REDIS_CLUSTER or REDIS_SENTINELS');
      return 1;
    }
    if (processes > 1) {
      // The embedded store is one process's: this one keeps it and the workers archive through it.
      const db = await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') });
      const store = archiveStore(db);
      await superviseWorkers({
        processes,
        script: process.argv[1]!,
        args: ['work', '--processes', '1'],
        env: { [ARCHIVE_VIA_SUPERVISOR]: '1' },
        onChild: (child) => serveArchive(child, store),
      });
      await db.close();
      return 0;
    }
    const archive = process.env[ARCHIVE_VIA_SUPERVISOR] && process.send ? archiveOverIpc() : undefined;
    const running = await startWorkProcess(config, { archive });
    console.log(`worker running on partitions shared with other workers (${config.PARTITIONS} partitions)`);
    await untilSignalled(() => running.stop());
    return 0;
  }
  if (values.processes !== undefined) {
    console.error('--processes is for work (serve runs its workers with --workers)');
    return 1;
  }
  const workers = Number(values.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 0 || workers > 1) {
    console.error('--workers must be 0 or 1 (run more `leaderboard work` processes to add workers)');
    return 1;
  }
  const running = await startService(config, { workers, http: true });
  console.log(`\nLeaderboard is up: ${running.url}   (dashboard ${running.url}/   API ${running.url}/docs)`);
  if (running.apiKey)
    console.log(`API key (all scopes, kept in ${config.DATA_DIR}/api-key): ${running.apiKey}`);
  const auth = running.apiKey
    ? `-H 'Authorization: Bearer ${running.apiKey}' `
    : `-H 'Authorization: Bearer <key>' `;
  console.log(
    `Try: curl -X POST ${running.url}/v1/boards/global/events ${auth}-H 'Content-Type: application/json' -d '{"userId":"ann","value":10}'`,
  );
  console.log(`     curl ${running.url}/v1/boards/global/top\n`);
  await untilSignalled(
    () => running.stop(),
    () => running.stopPrivateRedisNow(),
  );
  return 0;
}

/**
 * Waits for SIGINT/SIGTERM (or, in a worker forked by `work --processes N`, its supervisor
 * going away), then stops gracefully; a second signal stops at once.
 */
function untilSignalled(stop: () => Promise<void>, stopNow: () => void = () => {}): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        console.log(`\n${signal} again: stopping now`);
        stopNow();
        process.exit(130);
      }
      stopping = true;
      console.log(`\n${signal}: stopping gracefully… (again to stop now)`);
      void stop().then(() => {
        console.log('stopped');
        resolve();
      });
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    // A worker forked by `work --processes N` stops with its supervisor.
    process.once('disconnect', () => shutdown('supervisor gone'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (
      error instanceof RedisNotInstalledError ||
      error instanceof UsageError ||
      (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) ||
      (error instanceof Error && error.message.startsWith('invalid configuration'))
    ) {
      console.error(error.message);
    } else {
      console.error(error);
    }
    process.exit(1);
  },
);
