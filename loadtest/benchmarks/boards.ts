/**
 * Many boards: the service as `npm start` builds it (`startService`: HTTP, one worker pipeline,
 * PGlite on disk), in a child process, on a key prefix of its own per repetition.
 *
 * One repetition:
 * 1. with only the default board: the idle process's CPU over `BENCH_BOARDS_IDLE_SECONDS`
 *    (default 5) s (`boards.idleCpuPercentAtOne`), then `GET /v1/boards/<unknown id>/top`, every
 *    request a new id, 64 connections, 3 s (`boards.unknownLookupRpsAtOne`; each must answer 404);
 * 2. creates 9,999 boards with `PUT /v1/boards/b<n>` (10,000 with the default board: MAX_BOARDS) (admin key, body `{}`, 8 connections):
 *    the rate over the first and the last 1,000 (`boards.createFirstPerSec`,
 *    `boards.createLastPerSec`: equal when creating a board costs the same at any count) and
 *    the whole time (`boards.create10kSeconds`);
 * 3. the same idle CPU and unknown lookups with the 10,000 boards (`boards.idleCpuPercent`,
 *    `boards.unknownLookupRps`), judged against step 1; the time of one lookup alone (one
 *    connection: 1 / its rate, `boards.unknownLookupMs`); and
 *    `GET /v1/boards` (the first page of 1,000), `boards.listPageRps`.
 * Idle CPU is the child's `process.cpuUsage()` (user + system) over the wall time, in % of one core.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadConfig } from '../../server/config.js';
import { startService } from '../../server/main.js';
import type { BenchContext, BenchmarkGroup, Repetition, Sample } from '../harness/benchmark.js';
import { cannon } from '../harness/cannon.js';

const CHILD_FLAG = '--boards-bench-server';
const ADMIN_KEY = 'boards-bench-admin';
const CREATE_CONNECTIONS = 8;
const READ_CONNECTIONS = 64;

export const boards: BenchmarkGroup = {
  name: 'boards',
  description:
    'the service (npm start, one worker) with 10,000 boards vs with one: board creation rate first vs last ' +
    'thousand, idle CPU, unknown-board lookups (autocannon, service in a child process)',
  figures: [
    { path: 'boards.createLastPerSec', unit: 'boards/s', baseline: 'boards.createFirstPerSec' },
    { path: 'boards.createFirstPerSec', unit: 'boards/s' },
    { path: 'boards.create10kSeconds', unit: 's' },
    { path: 'boards.idleCpuPercent', unit: '% core', baseline: 'boards.idleCpuPercentAtOne' },
    { path: 'boards.idleCpuPercentAtOne', unit: '% core' },
    { path: 'boards.unknownLookupRps', unit: 'req/s', baseline: 'boards.unknownLookupRpsAtOne' },
    { path: 'boards.unknownLookupRpsAtOne', unit: 'req/s' },
    { path: 'boards.unknownLookupMs', unit: 'ms' },
    { path: 'boards.listPageRps', unit: 'req/s' },
  ],
  prepare(context) {
    const count = context.quick ? 1000 : 10_000;
    const idleSeconds = Number(process.env.BENCH_BOARDS_IDLE_SECONDS ?? (context.quick ? 2 : 5));
    return {
      parameters: {
        boards: count,
        idleSeconds,
        createConnections: CREATE_CONNECTIONS,
        readConnections: READ_CONNECTIONS,
        partitions: 16,
      },
      run: (repetition) =>
        runRepetition(context, repetition, repetition.warmup ? count / 10 : count, idleSeconds),
    };
  },
};

async function runRepetition(
  context: BenchContext,
  repetition: Repetition,
  count: number,
  idleSeconds: number,
): Promise<Sample> {
  const prefix = `boards_${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'boards-bench-'));
  const server = await spawnService(context.redisUrl, prefix, dataDir);
  const sample: Sample = {};
  try {
    await sleep(1000); // the worker's start-up work settles
    sample['boards.idleCpuPercentAtOne'] = await idleCpu(server, idleSeconds);
    sample['boards.unknownLookupRpsAtOne'] = (await unknownLookups(server.url, 'one', READ_CONNECTIONS)).rps;

    // The default board is one of them: MAX_BOARDS (10,000 by default) is reached exactly.
    const created = count - 1;
    const tenth = Math.max(1, Math.floor(created / 10));
    const started = process.hrtime.bigint();
    const first = await create(server.url, 0, tenth);
    await create(server.url, tenth, created - 2 * tenth);
    const last = await create(server.url, created - tenth, tenth);
    sample['boards.create10kSeconds'] = Number(process.hrtime.bigint() - started) / 1e9;
    sample['boards.createFirstPerSec'] = first;
    sample['boards.createLastPerSec'] = last;
    context.log(
      `boards (repetition ${repetition.warmup ? 'warm-up' : repetition.index}): ${count} boards created in ` +
        `${sample['boards.create10kSeconds']!.toFixed(1)} s`,
    );

    await sleep(1000);
    sample['boards.idleCpuPercent'] = await idleCpu(server, idleSeconds);
    sample['boards.unknownLookupRps'] = (await unknownLookups(server.url, 'many', READ_CONNECTIONS)).rps;
    // One connection: the time one lookup takes, without queueing behind others.
    sample['boards.unknownLookupMs'] = 1000 / (await unknownLookups(server.url, 'alone', 1)).rps;
    sample['boards.listPageRps'] = (
      await cannon(
        server.url,
        3,
        READ_CONNECTIONS,
        { method: 'GET', path: '/v1/boards' },
        { expectStatus: 200 },
      )
    ).rps;
  } finally {
    await stopService(server);
    rmSync(dataDir, { recursive: true, force: true });
    await dropPrefix(context.redisUrl, prefix);
  }
  return sample;
}

/**
 * Creates boards b<from>..b<from+n-1> over 8 connections (keep-alive `fetch`, 8 requests in
 * flight: autocannon's `amount` mode ends on its one-second tick); returns boards created per second.
 */
async function create(url: string, from: number, n: number): Promise<number> {
  if (n <= 0) return 0;
  let next = from;
  const end = from + n;
  const started = process.hrtime.bigint();
  const sender = async () => {
    while (next < end) {
      const id = `b${next++}`;
      const res = await fetch(`${url}/v1/boards/${id}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`PUT /v1/boards/${id}: ${res.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONNECTIONS }, sender));
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

function unknownLookups(url: string, label: string, connections: number): Promise<{ rps: number }> {
  return cannon(
    url,
    3,
    connections,
    { method: 'GET', path: '/v1/boards/nope/top', paths: (i) => `/v1/boards/nope-${label}-${i}/top` },
    { expectStatus: 404 },
  );
}

interface ServiceChild {
  child: ChildProcess;
  url: string;
}

/** The child's CPU use, in % of one core, while nobody sends it anything for `seconds`. */
async function idleCpu(server: ServiceChild, seconds: number): Promise<number> {
  const before = await ask(server);
  const wall = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const after = await ask(server);
  const wallUs = Number(process.hrtime.bigint() - wall) / 1000;
  return Math.max(0.01, ((after - before) / wallUs) * 100);
}

/** The child's CPU time so far, µs. */
function ask(server: ServiceChild): Promise<number> {
  return new Promise((resolve) => {
    server.child.once('message', (message: { cpuUs: number }) => resolve(message.cpuUs));
    server.child.send('cpu');
  });
}

function spawnService(redisUrl: string, prefix: string, dataDir: string): Promise<ServiceChild> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, redisUrl, prefix, dataDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the service did not start in 60 s'));
    }, 60_000);
    child.once('message', (message: { url: string }) => {
      clearTimeout(timer);
      resolve({ child, url: message.url });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with code ${code}`));
    });
  });
}

async function stopService(server: ServiceChild): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  await exited;
}

async function dropPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  for (const pattern of [`{${prefix}:*`, `{${prefix}}*`, `${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  redis.disconnect();
}

if (process.argv[2] === CHILD_FLAG) {
  const [redisUrl, prefix, dataDir] = process.argv.slice(3) as [string, string, string];
  const config = loadConfig({
    REDIS_URL: redisUrl,
    KEY_PREFIX: prefix,
    PARTITIONS: '16',
    DATA_DIR: dataDir,
    PORT: '0',
    API_KEYS: `${ADMIN_KEY}=admin+read+ingest`,
    RATE_LIMIT_RPS: '1000000000',
    ANONYMOUS_RATE_LIMIT_RPS: '1000000000',
    LOG_LEVEL: 'silent',
  });
  const service = await startService(config, { workers: 1, http: true });
  process.on('message', () => {
    const used = process.cpuUsage();
    process.send!({ cpuUs: used.user + used.system });
  });
  process.send!({ url: service.url });
  const shutdown = () => {
    void service.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);
}
