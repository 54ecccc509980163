/**
 * Everything the routes use, built once per process: Redis, the relational store, boards, the
 * event writer, queries, caches and metrics. Routes never touch Redis keys themselves.
 */

import type { MiddlewareHandler } from 'hono';
import { type Cluster, Redis } from 'ioredis';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import {
  workersAlive as anyWorkerAlive,
  BoardRegistry,
  createAppendConnection,
  type Database,
  DEFAULTS,
  EventWriter,
  HiddenUsers,
  LeaderboardQueries,
  type LeaderboardWorkers,
  listBoards,
  ProfileCache,
  pipelineMetrics,
  type StreamAdmin,
  streamAdmin,
} from '../leaderboard/index.js';
import type { ApiKey } from './auth/apiKeys.js';
import type { AuthVariables } from './auth/index.js';
import { TrustedProxies } from './clientAddress.js';
import type { Config } from './config.js';
import { FriendsRanking } from './friendsRanking.js';
import { LiveStreamLimits } from './liveStreamLimits.js';
import { RateLimiter, rateLimit } from './rateLimit/index.js';
import { SnapshotCache } from './snapshotCache.js';
import { StatsSampler } from './stats.js';
import { TopBodyCache } from './topBodyCache.js';

export interface ServerMetrics {
  requests: Counter<'route' | 'status'>;
  eventsAccepted: Counter;
  /** Connections refused as they were accepted, by cap (`total` or `client`). */
  connectionsRefused: Counter<'reason'>;
  /** Live (SSE) streams open now. */
  liveStreams: Gauge;
  /** Live streams dropped because their client left an update unread for `LIVE_STALL_MS`. */
  liveStreamsDropped: Counter;
}

export interface Services {
  config: Config;
  redis: Redis | Cluster;
  db: Database;
  keys: ApiKey[];
  boards: BoardRegistry;
  writer: EventWriter;
  queries: LeaderboardQueries;
  snapshots: SnapshotCache;
  /** Serialized `/top` bodies, per snapshot version (see `topBodyCache.ts` for how long). */
  tops: TopBodyCache;
  profiles: ProfileCache;
  friends: FriendsRanking;
  /** Boards' hidden users. */
  hidden: HiddenUsers;
  registry: Registry;
  metrics: ServerMetrics;
  admin: StreamAdmin;
  /** The per-key rate limit's buckets, one per key across every route. */
  rateLimiter: RateLimiter;
  /** The rate limit of requests without a key, one bucket per client address. */
  anonymousLimiter: RateLimiter;
  /** The rate limit as the routes' middleware, over `rateLimiter` and `anonymousLimiter`. */
  limiter: MiddlewareHandler<{ Variables: AuthVariables }>;
  /** Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`). */
  proxies: TrustedProxies;
  /** The caps on live (SSE) streams, in total and per client address. */
  liveStreams: LiveStreamLimits;
  /** Workers running in this process, if any. */
  workers?: LeaderboardWorkers;
  /** The dashboard's per-second samples (`GET /v1/stats`). */
  stats: StatsSampler;
  close(): Promise<void>;
}

export interface ServicesInput {
  config: Config;
  redis: Redis | Cluster;
  db: Database;
  keys: ApiKey[];
  registry?: Registry;
}

export async function createServices(input: ServicesInput): Promise<Services> {
  const { config, redis, db, keys } = input;
  const name = config.KEY_PREFIX;
  const registry = input.registry ?? new Registry();
  if (!input.registry) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which `promtool check metrics` rejects; each is the sum of the
    // per-type gauge of the same name without `_total` (nodejs_active_handles, ...), still served.
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ])
      registry.removeSingleMetric(name);
  }
  // Redis holds the boards every process reads; the database holds their durable copy, which
  // comes back when Redis lost them (a restart without persistence).
  const boards = new BoardRegistry(redis, name, { maxBoards: config.MAX_BOARDS, seed: () => listBoards(db) });
  await boards.load();
  // Other processes may change a board's settings: every process catches up every second (one
  // small read when nothing changed).
  const boardReload = setInterval(() => void boards.sync().catch(() => {}), 1000);
  boardReload.unref();
  const reads = readConnection(redis, config.REDIS_READ_TIMEOUT_MS);
  const queries = new LeaderboardQueries(reads, boards, { name, partitions: config.PARTITIONS });
  const snapshots = new SnapshotCache(queries, name);
  await snapshots.start(redis);
  const appends = appendConnection(redis);
  const writer = new EventWriter(appends, {
    name,
    partitions: config.PARTITIONS,
    highWaterMark: config.HIGH_WATER_MARK,
    retentionMs: config.RETENTION_DAYS * 86_400_000,
    replicated: config.DURABILITY === 'replicated' ? { timeoutMs: config.REPLICA_WAIT_MS } : undefined,
  });
  const admin = streamAdmin(redis, { name, partitions: config.PARTITIONS });
  await admin.ensureGroups();
  const friends = new FriendsRanking(db, queries, { threshold: config.FRIENDS_PRECOMPUTE_THRESHOLD });
  const partitionBacklogs = async () =>
    (await admin.groupInfo()).map((p) => ({
      partition: p.partition,
      lag: p.lag ?? p.length,
      pending: p.pending,
    }));
  // Created here, before any workers of this process, so the scrape-time backlog reader is set.
  const pipeline = pipelineMetrics(registry, { prefix: DEFAULTS.metricsPrefix, partitionBacklogs });
  const rateLimiter = new RateLimiter({ perSecond: config.RATE_LIMIT_RPS });
  const anonymousLimiter = new RateLimiter({
    perSecond: config.ANONYMOUS_RATE_LIMIT_RPS,
    subject: 'this client address (requests with a key are limited per key)',
  });
  const proxies = TrustedProxies.parse(config.TRUSTED_PROXIES);
  const metrics: ServerMetrics = {
    requests: new Counter({
      name: 'lb_http_requests_total',
      help: 'HTTP requests answered, by route pattern (unmatched: no route matched) and status code',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: 'lb_ingest_events_total',
      help: 'Events accepted (answered 202) by this process, one per event of a batch',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'lb_connections_refused_total',
      help: 'Connections refused as they were accepted, by the cap they were over (total, client)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    liveStreams: new Gauge({
      name: 'lb_live_streams',
      help: 'Live (SSE) streams open',
      registers: [registry],
    }),
    liveStreamsDropped: new Counter({
      name: 'lb_live_streams_dropped_total',
      help: 'Live streams dropped because their client left an update unread for LIVE_STALL_MS',
      registers: [registry],
    }),
  };
  const stats = new StatsSampler({
    partitions: config.PARTITIONS,
    eventsAccepted: metrics.eventsAccepted,
    eventsApplied: pipeline.eventsApplied,
    lateEvents: pipeline.lateEvents,
    deadLetters: pipeline.deadLetters,
    freshness: pipeline.freshness,
    workersInProcess: () => services.workers !== undefined,
    backlogs: partitionBacklogs,
  });
  stats.start();
  const services: Services = {
    config,
    redis,
    db,
    keys,
    boards,
    writer,
    queries,
    snapshots,
    tops: new TopBodyCache(),
    profiles: new ProfileCache(db),
    rateLimiter,
    anonymousLimiter,
    limiter: rateLimit(rateLimiter, anonymousLimiter, proxies),
    proxies,
    liveStreams: new LiveStreamLimits({
      maxStreams: config.MAX_LIVE_STREAMS,
      maxPerClient: config.MAX_LIVE_STREAMS_PER_CLIENT,
    }),
    friends,
    hidden: new HiddenUsers({ redis, boards, name, partitions: config.PARTITIONS }),
    registry,
    metrics,
    admin,
    stats,
    async close() {
      stats.stop();
      clearInterval(boardReload);
      writer.close();
      appends.disconnect();
      reads.disconnect();
      friends.close();
      await snapshots.stop();
    },
  };
  return services;
}

/** How long an append may wait for Redis's reply before the request is answered 503, ms. */
export const APPEND_TIMEOUT_MS = 5000;

/**
 * The connection the edge appends events over: the package's append connection
 * (`createAppendConnection`), a duplicate of the service's connection that never sends an append
 * again once it may have run. By default ioredis resends a command whose reply was lost: a
 * `Redis` client after it reconnects, a `Cluster` client after a node's connection closed
 * (`retryDelayOnFailover`, on whichever node then serves the slot). But Redis may have run it
 * before the connection dropped (a Redis killed after writing the AOF and before replying, a
 * reset connection, a failover): an XADD sent twice is an event in the stream twice, counted
 * twice unless it carries an eventId, and answered 202. Without the resend such an append fails
 * instead (503; the event is in the stream at most once). On one server ioredis then never settles
 * the dropped commands, and `commandTimeout` rejects them; on a Cluster the closed connection
 * rejects them at once.
 *
 * It auto-pipelines: the appends of all the requests handled in one turn of the event loop go to
 * Redis in one socket write (and their replies come back in one read) instead of one each; a
 * write to a loopback socket costs more than a request's whole validation.
 */
function appendConnection(redis: Redis | Cluster): Redis | Cluster {
  return createAppendConnection(redis, { commandTimeoutMs: APPEND_TIMEOUT_MS, enableAutoPipelining: true });
}

/**
 * The connection the reads query over: the service's connection, duplicated with auto-pipelining,
 * so a rank's 33 commands (a score, then a count and a size per partition) and those of every other
 * read in the same turn of the event loop share one socket write (per shard, on a cluster), and
 * with a command timeout, so a read that needs a shard that is down fails (503) within
 * `REDIS_READ_TIMEOUT_MS` instead of waiting for it.
 */
function readConnection(redis: Redis | Cluster, timeoutMs: number): Redis | Cluster {
  const reads =
    redis instanceof Redis
      ? redis.duplicate({ enableAutoPipelining: true, commandTimeout: timeoutMs })
      : redis.duplicate(undefined, {
          enableAutoPipelining: true,
          redisOptions: { ...redis.options.redisOptions, commandTimeout: timeoutMs },
        });
  reads.on('error', () => {}); // reconnects by itself; a read that fails meanwhile fails its request
  return reads;
}

/** Whether any worker process of the group is alive (its heartbeat is in the members set). */
export async function workersAlive(services: Services): Promise<boolean> {
  if (services.workers) return true;
  return anyWorkerAlive(services.redis, services.config.KEY_PREFIX);
}
