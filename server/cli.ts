#!/usr/bin/env node
/**
 * `leaderboard serve|work|describe|replay|dlq`: the server and the workers in one process (the
 * default of `npm start`), or as separate processes sharing partitions, and the operations
 * commands, all configured by the environment.
 */
import { parseArgs } from 'node:util';
import { describeLeaderboard } from '../leaderboard/index.js';
import { clusterCommand } from './commands/cluster.js';
import { deadLettersCommand } from './commands/deadLetters.js';
import { replayCommand, UsageError } from './commands/replay.js';
import { verifyCommand } from './commands/verify.js';
import { loadConfig } from './config.js';
import { startService } from './main.js';
import { RedisNotInstalledError } from './privateRedis.js';

const USAGE = `usage: leaderboard <command> [options]

commands:
  serve [--workers N]   HTTP server, plus N worker pipelines in this process (default 1)
  work                  a worker process only (run as many as you like)
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
    options: { workers: { type: 'string' }, help: { type: 'boolean' } },
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
  const workers = command === 'work' ? 1 : Number(values.workers ?? 1);
  if (!Number.isInteger(workers) || workers < 0 || workers > 1) {
    console.error('--workers must be 0 or 1 (run more `leaderboard work` processes to add workers)');
    return 1;
  }
  const config = loadConfig();
  const running = await startService(config, { workers, http: command === 'serve' });
  if (running.url) {
    console.log(
      `\nLeaderboard is up: ${running.url}   (dashboard ${running.url}/   API ${running.url}/docs)`,
    );
    if (running.apiKey)
      console.log(`API key (all scopes, kept in ${config.DATA_DIR}/api-key): ${running.apiKey}`);
    const auth = running.apiKey
      ? `-H 'Authorization: Bearer ${running.apiKey}' `
      : `-H 'Authorization: Bearer <key>' `;
    console.log(
      `Try: curl -X POST ${running.url}/v1/boards/global/events ${auth}-H 'Content-Type: application/json' -d '{"userId":"ann","value":10}'`,
    );
    console.log(`     curl ${running.url}/v1/boards/global/top\n`);
  } else {
    console.log(`worker running on partitions shared with other workers (${config.PARTITIONS} partitions)`);
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) {
        console.log(`\n${signal} again: stopping now`);
        running.stopPrivateRedisNow();
        process.exit(130);
      }
      stopping = true;
      console.log(`\n${signal}: stopping gracefully… (again to stop now)`);
      void running.stop().then(() => {
        console.log('stopped');
        resolve();
      });
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
  return 0;
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
