/**
 * The edge server over real sockets: the service's HTTP server (`server/edgeServer.ts`: the Hono
 * app of `server/app.ts` on `@hono/node-server`'s listener, with the single-event fast path in
 * front of it), built as `npm start` builds it (`createServices`, in-memory PGlite, 16
 * partitions, API keys), against a bare `node:http` server on the same Redis. Each server runs in
 * a child process of its own (forked from this file); autocannon drives them from the benchmark
 * process, so the server under test never shares its event loop with the load generator (they do
 * share the machine's two cores, with Redis).
 *
 * One repetition:
 * 1. single-event ingest: `POST /v1/boards/bench/events` with `Authorization: Bearer <key>` and
 *    `{"userId":"u<n>","value":<v>}`, n cycling over 1,000,000 ids (autocannon `setupRequest`),
 *    64 connections, `BENCH_EDGE_SECONDS` (default 4) s, against three servers in an order that
 *    rotates between repetitions:
 *    - `ingest.singleRps`: the service as it runs. It authenticates, rate-limits (the limit is
 *      set to 1e9/s so it never refuses, but its bucket is still kept), validates (the
 *      contract's rules), checks the partition backlog and answers 202 once `XADD` is
 *      acknowledged;
 *    - `ingest.honoSingleRps`: the same service with the fast path off, every request routed
 *      through Hono (what the fast path saves);
 *    - `ingest.bareNodeRps`: the bare server parses the JSON, picks the partition and runs the
 *      same `XADD ... MINID ~ <7 days> * b u v t`, then answers 202: no auth, no validation, no
 *      backlog check, no framework.
 *    All send their XADDs over an ioredis connection that auto-pipelines (the app's append
 *    connection does; the bare server's is given the same option, so the ratio measures what the
 *    app adds, not a difference of Redis client settings). Only 2xx answers count; any other
 *    answer fails the run.
 * 2. batch ingest: `POST /v1/events` with 1000 events per body (32 pre-built bodies of varying
 *    users, cycled), 8 connections; figure = accepted events/s.
 * 3. reads, on a board of 1,000,000 users over 16 partitions (filled once with pipelined ZADD,
 *    then a snapshot written by running `LeaderboardWorkers` until it published one):
 *    `GET /v1/boards/bench/top` (top 100 from the snapshot, with profiles; reads need no key by
 *    default and are sent without one), 64 connections; and `GET /v1/boards/bench/users/u<n>`
 *    (score, rank = 1 + ZCOUNT over 16 partitions, total = ZCARD over 16 partitions,
 *    percentile), n varying, 64 connections: requests/s, and p99 latency as autocannon sees it
 *    at that saturating concurrency (queueing included), not at light load.
 * Latencies (`*P99Ms`) are autocannon's, from request sent to response received.
 * Streams written by the ingest runs are deleted after each run, so backlogs stay small.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DEFAULT_RETENTION_MS, partitionFor } from 'redis-streams-consumer-groups';
import {
  BoardRegistry,
  EventWriter,
  LeaderboardWorkers,
  openDatabase,
  scoreEventCodec,
} from '../../leaderboard/index.js';
import { snapshotKey, stateKeys } from '../../operators/stateKeys.js';
import { createApp } from '../../server/app.js';
import { parseApiKeys } from '../../server/auth/apiKeys.js';
import { loadConfig } from '../../server/config.js';
import { listenEdge } from '../../server/edgeServer.js';
import { createServices } from '../../server/services.js';
import type { BenchContext, BenchmarkGroup, Repetition, Sample } from '../harness/benchmark.js';
import { cannon } from '../harness/cannon.js';

const CHILD_FLAG = '--edge-bench-server';
const PARTITIONS = 16;
const USERS = 1_000_000;
const BOARD = 'bench';
const API_KEY = 'edge-bench-key';
const CONNECTIONS = 64;
const BATCH_CONNECTIONS = 8;
const BATCH_EVENTS = 1000;

type ServerKind = 'app' | 'hono' | 'bare';

interface ChildServer {
  kind: ServerKind;
  child: ChildProcess;
  url: string;
}

export const edge: BenchmarkGroup = {
  name: 'edge',
  description:
    'the service (fast path + Hono app) and the Hono app alone (auth, validation, backlog check, ' +
    'XADD) vs bare node:http XADD; ' +
    'batch ingest; top-K and rank reads over 1M users (autocannon, servers in child processes)',
  figures: [
    { path: 'ingest.singleRps', unit: 'req/s', baseline: 'ingest.bareNodeRps' },
    { path: 'ingest.honoSingleRps', unit: 'req/s', baseline: 'ingest.bareNodeRps' },
    { path: 'ingest.bareNodeRps', unit: 'req/s' },
    { path: 'ingest.singleP99Ms', unit: 'ms' },
    { path: 'ingest.batchEventsPerSec', unit: 'events/s' },
    { path: 'reads.topRps', unit: 'req/s' },
    { path: 'reads.rankRps', unit: 'req/s' },
    { path: 'reads.rankP99Ms', unit: 'ms' },
  ],
  async prepare(context) {
    const seconds = Number(process.env.BENCH_EDGE_SECONDS ?? (context.quick ? 1 : 4));
    // KEY_PREFIX allows [A-Za-z0-9_-] only.
    const appPrefix = `edge_${randomBytes(3).toString('hex')}`;
    const barePrefix = `${appPrefix}_bare`;
    const redis = new Redis(context.redisUrl);
    const started = Date.now();
    await fillBoard(context, redis, appPrefix, context.quick ? 50_000 : USERS);
    context.log(
      `edge: board of ${context.quick ? 50_000 : USERS} users and its snapshot ready in ${Date.now() - started} ms`,
    );
    const servers: ChildServer[] = [];
    try {
      servers.push(await spawnServer('app', context.redisUrl, appPrefix));
      servers.push(await spawnServer('hono', context.redisUrl, appPrefix));
      servers.push(await spawnServer('bare', context.redisUrl, barePrefix));
    } catch (error) {
      for (const s of servers) s.child.kill();
      redis.disconnect();
      throw error;
    }
    const [app, hono, bare] = servers as [ChildServer, ChildServer, ChildServer];
    const batchBodies = Array.from({ length: 32 }, (_, b) => {
      const events = Array.from({ length: BATCH_EVENTS }, (_, i) => ({
        board: BOARD,
        userId: `u${(b * 7919 + i * 104_729) % USERS}`,
        value: 1 + ((b + i) % 100),
      }));
      return JSON.stringify({ events });
    });
    return {
      parameters: {
        seconds,
        connections: CONNECTIONS,
        batchConnections: BATCH_CONNECTIONS,
        batchEvents: BATCH_EVENTS,
        partitions: PARTITIONS,
        readUsers: context.quick ? 50_000 : USERS,
        load: 'autocannon in the bench process',
      },
      run: (repetition) =>
        runRepetition(context, repetition, {
          redis,
          app,
          hono,
          bare,
          appPrefix,
          barePrefix,
          batchBodies,
          seconds: repetition.warmup ? Math.min(2, seconds) : seconds,
        }),
      async dispose() {
        await Promise.all(servers.map(stopServer));
        await dropPrefix(redis, appPrefix);
        await dropPrefix(redis, barePrefix);
        await redis.quit();
      },
    };
  },
};

interface Setup {
  redis: Redis;
  app: ChildServer;
  hono: ChildServer;
  bare: ChildServer;
  appPrefix: string;
  barePrefix: string;
  batchBodies: string[];
  seconds: number;
}

async function runRepetition(context: BenchContext, repetition: Repetition, setup: Setup): Promise<Sample> {
  const { redis, app, hono, bare, seconds } = setup;
  const sample: Sample = {};
  const single = async (server: ChildServer) => {
    const result = await cannon(server.url, seconds, CONNECTIONS, {
      method: 'POST',
      path: `/v1/boards/${BOARD}/events`,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      bodies: (n) => `{"userId":"u${(n * 7919) % USERS}","value":${1 + (n % 100)}}`,
    });
    await deleteStreams(redis, server === bare ? setup.barePrefix : setup.appPrefix);
    return result;
  };
  // The order rotates between repetitions, so no server always runs first (or last).
  const servers = [app, hono, bare];
  const shift = repetition.index % servers.length;
  for (const server of [...servers.slice(shift), ...servers.slice(0, shift)]) {
    const result = await single(server);
    if (server === app) {
      sample['ingest.singleRps'] = result.rps;
      sample['ingest.singleP99Ms'] = result.p99;
    } else if (server === hono) {
      sample['ingest.honoSingleRps'] = result.rps;
    } else {
      sample['ingest.bareNodeRps'] = result.rps;
    }
  }

  const batch = await cannon(app.url, seconds, BATCH_CONNECTIONS, {
    method: 'POST',
    path: '/v1/events',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    bodies: (n) => setup.batchBodies[n % setup.batchBodies.length]!,
  });
  await deleteStreams(redis, setup.appPrefix);
  sample['ingest.batchEventsPerSec'] = batch.rps * BATCH_EVENTS;

  const top = await cannon(app.url, seconds, CONNECTIONS, { method: 'GET', path: `/v1/boards/${BOARD}/top` });
  sample['reads.topRps'] = top.rps;
  const users = Number(process.env.BENCH_EDGE_USERS ?? (context.quick ? 50_000 : USERS));
  const rank = await cannon(app.url, seconds, CONNECTIONS, {
    method: 'GET',
    path: `/v1/boards/${BOARD}/users/u0`,
    paths: (n) => `/v1/boards/${BOARD}/users/u${(n * 7919) % users}`,
  });
  sample['reads.rankRps'] = rank.rps;
  sample['reads.rankP99Ms'] = Math.max(0.5, rank.p99);
  return sample;
}

// ---------------------------------------------------------------------------------------------
// Set-up

/** 1M users in the board's 16 `all` sorted sets (pipelined ZADD), then a snapshot via the workers. */
async function fillBoard(context: BenchContext, redis: Redis, prefix: string, users: number): Promise<void> {
  const boards = new BoardRegistry(redis, prefix);
  await boards.put({
    id: BOARD,
    policy: 'sum',
    order: 'desc',
    windows: ['all'],
    topK: 100,
    graceSeconds: 300,
    retentionDays: 30,
  });
  const byPartition: (string | number)[][] = Array.from({ length: PARTITIONS }, () => []);
  let pipeline = redis.pipeline();
  let queued = 0;
  const flush = async (p: number) => {
    pipeline.zadd(stateKeys(prefix, p).scores(BOARD, 'all:0'), ...byPartition[p]!);
    byPartition[p] = [];
    if (++queued >= 64) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  };
  let seed = 12_345;
  for (let i = 0; i < users; i++) {
    const userId = `u${i}`;
    const p = partitionFor(userId, PARTITIONS);
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    byPartition[p]!.push(seed % 10_000_000, userId);
    if (byPartition[p]!.length >= 2000) await flush(p);
  }
  for (let p = 0; p < PARTITIONS; p++) if (byPartition[p]!.length > 0) await flush(p);
  await pipeline.exec();

  // One event makes the (board, all) pair dirty; the workers merge the 16 partitions' tops and
  // write the snapshot the reads serve. It must reach the top: a change below every partition's
  // local top-100 cannot change the top, and marks nothing.
  const writer = new EventWriter(redis, { name: prefix, partitions: PARTITIONS });
  await writer.append([{ board: BOARD, userId: 'u0', value: 100_000_000, ts: Date.now() }]);
  writer.close();
  let published!: () => void;
  const snapshot = new Promise<void>((resolve) => {
    published = resolve;
  });
  const workers = new LeaderboardWorkers({
    redis,
    boards,
    name: prefix,
    partitions: PARTITIONS,
    consumer: { blockMs: 50 },
    onSnapshot: () => published(),
    onError: (error) => context.log(`edge: worker error ${String(error)}`),
  });
  await workers.start();
  const timeout = setTimeout(() => published(), 30_000);
  await snapshot;
  clearTimeout(timeout);
  await workers.stop();
  const written = await redis.hget(snapshotKey(prefix, BOARD, 'all:0'), 'version');
  if (!written) throw new Error('edge: no snapshot was written for the reads');
  await deleteStreams(redis, prefix);
}

async function deleteStreams(redis: Redis, prefix: string): Promise<void> {
  await redis.unlink(...Array.from({ length: PARTITIONS }, (_, p) => stateKeys(prefix, p).stream));
}

async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`{${prefix}:*`, `{${prefix}}*`, `${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
}

function spawnServer(kind: ServerKind, redisUrl: string, prefix: string): Promise<ChildServer> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, kind, redisUrl, prefix], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the ${kind} server did not start in 60 s`));
    }, 60_000);
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve({ kind, child, url: `http://127.0.0.1:${message.port}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${kind} server exited with code ${code}`));
    });
  });
}

async function stopServer(server: ChildServer): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
  server.child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------------------------------------
// The child processes

/** The app as `npm start` builds it, minus the workers and the dashboard's log lines. */
async function serveApp(redisUrl: string, prefix: string, honoOnly: boolean): Promise<() => Promise<void>> {
  const config = loadConfig({
    REDIS_URL: redisUrl,
    PARTITIONS: String(PARTITIONS),
    KEY_PREFIX: prefix,
    API_KEYS: `${API_KEY}=ingest+read`,
    RATE_LIMIT_RPS: '1000000000',
    // All the load comes from one address: the reads (no key) would meet the per-address limit.
    ANONYMOUS_RATE_LIMIT_RPS: '0',
    LOG_LEVEL: 'silent',
  });
  const redis = new Redis(config.REDIS_URL!);
  const db = await openDatabase({});
  const services = await createServices({ config, redis, db, keys: parseApiKeys(config.API_KEYS!) });
  const app = createApp(services);
  const server = await listenEdge(app, services, { port: 0, hostname: '127.0.0.1', honoOnly });
  process.send!({ port: (server.address() as AddressInfo).port });
  return async () => {
    server.close();
    await services.close();
    await db.close();
    redis.disconnect();
  };
}

/**
 * JSON in, the same XADD the app's writer sends, 202 out; nothing else. Its connection
 * auto-pipelines as the app's append connection does (`server/services.ts`).
 */
async function serveBare(redisUrl: string, prefix: string): Promise<() => Promise<void>> {
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  const streams = Array.from({ length: PARTITIONS }, (_, p) => stateKeys(prefix, p).stream);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: { userId: string; value: number };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const minId = String(Date.now() - DEFAULT_RETENTION_MS);
      const stream = streams[partitionFor(body.userId, PARTITIONS)]!;
      redis
        .xadd(
          stream,
          'MINID',
          '~',
          minId,
          '*',
          ...scoreEventCodec.encode({ board: BOARD, userId: body.userId, value: body.value, ts: Date.now() }),
        )
        .then(
          () => {
            res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1}');
          },
          () => {
            res.writeHead(503).end();
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send!({ port: (server.address() as AddressInfo).port });
  return async () => {
    server.close();
    redis.disconnect();
  };
}

if (process.argv[2] === CHILD_FLAG) {
  const [kind, redisUrl, prefix] = process.argv.slice(3) as [ServerKind, string, string];
  const stop =
    kind === 'bare' ? await serveBare(redisUrl, prefix) : await serveApp(redisUrl, prefix, kind === 'hono');
  const shutdown = () => {
    void stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);
}
