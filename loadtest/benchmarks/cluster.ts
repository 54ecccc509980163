/**
 * The leaderboard on a real Redis Cluster, for the capacity model (`npm run capacity`): what an
 * event costs each part of the fleet, measured as CPU time (so a busy shared machine slows the
 * run but moves the costs much less than the rates), on a cluster of 1 master and on one of 3.
 * Two cores cannot show three shards running three times as fast; the costs per event are what
 * carries over to a real fleet.
 *
 * Set-up (not timed), for each cluster size: a private cluster (`loadtest/harness/clusterTarget.ts`,
 * masters only, no persistence) and the edge in a child process of its own, started as
 * `leaderboard serve --workers 0` starts it (`startService`, REDIS_CLUSTER, 16 partitions, PGlite
 * in a temporary directory), with a board `bench` (sum, desc, window `all`, K = 100).
 *
 * One repetition, for each size, on emptied masters (`FLUSHALL SYNC`) and the board put again:
 * 1. batch ingest: autocannon `POST /v1/events`, bodies of 1,000 events over `users` users
 *    (100,000; every user in the first `users` events), 8 connections, `BENCH_CLUSTER_SECONDS`
 *    (default 4) s. Figures: events/s; per event, Redis CPU (`INFO cpu` used_cpu_sys + user,
 *    summed over the masters), the time inside the library's scripts (`INFO commandstats`:
 *    `evalsha`; commands a script calls are counted again under their own names, so they are
 *    logged, not summed), the edge's CPU (`process.cpuUsage()` in its process).
 * 2. single-event ingest: `POST /v1/boards/bench/events`, 64 connections, as long: requests/s,
 *    and the same costs per request (= per event; the command time is `XADD`'s).
 * 3. apply: a worker process (`LeaderboardWorkers`, default consumer options: batches of 500)
 *    drains everything the streams hold (Σ XLEN): events/s from `start()` to the last applied;
 *    per event, Redis CPU and script time, and the worker's own CPU.
 * 4. rank reads: `GET /v1/boards/bench/users/u<n>` (score, 1 + ZCOUNT per partition, ZCARD per
 *    partition), 64 connections: reads/s, Redis CPU and edge CPU per read.
 * On 3 masters also: the largest master's share of the apply's Redis CPU (1/3 when even), and
 * memory: `MEMORY USAGE` of the score sets per member and of the streams per entry.
 * Ratios: each 3-master figure against the 1-master one.
 *
 * `BENCH_QUICK` uses 10,000 users and 1 s runs.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Cluster } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { stateKeys } from '../../operators/stateKeys.js';
import type { BenchContext, BenchmarkGroup, FigureSpec, Repetition, Sample } from '../harness/benchmark.js';
import { cannon } from '../harness/cannon.js';
import {
  type ClusterTarget,
  counterDelta,
  type NodeCounters,
  startClusterTarget,
} from '../harness/clusterTarget.js';

const CHILD_FLAG = '--cluster-bench-child';
const PARTITIONS = 16;
const BOARD = 'bench';
const API_KEY = 'cluster-bench-key';
const BATCH_EVENTS = 1000;
const BATCH_CONNECTIONS = 8;
const CONNECTIONS = 64;

const SIZES = [
  { label: 'oneShard', masters: 1 },
  { label: 'threeShards', masters: 3 },
] as const;

type SizeLabel = (typeof SIZES)[number]['label'];

/** The figures of one size; the 3-master ones are judged against the 1-master ones. */
function sizeFigures(label: SizeLabel): FigureSpec[] {
  const one = (path: string) => (label === 'threeShards' ? { baseline: `cluster.oneShard.${path}` } : {});
  const figure = (path: string, unit: string): FigureSpec => ({
    path: `cluster.${label}.${path}`,
    unit,
    ...one(path),
  });
  return [
    figure('batchIngestEventsPerSec', 'events/s'),
    figure('singleIngestRps', 'req/s'),
    figure('applyEventsPerSec', 'events/s'),
    figure('rankReadsPerSec', 'req/s'),
    figure('cost.redisUsPerEvent.batchAppend', 'µs/event'),
    figure('cost.redisUsPerEvent.singleAppend', 'µs/event'),
    figure('cost.redisUsPerEvent.apply', 'µs/event'),
    figure('cost.redisUsPerRankRead', 'µs/read'),
    figure('cost.redisScriptUsPerEvent.batchAppend', 'µs/event'),
    figure('cost.redisXaddUsPerEvent.singleAppend', 'µs/event'),
    figure('cost.redisScriptUsPerEvent.apply', 'µs/event'),
    figure('cost.workerNodeUsPerEvent', 'µs/event'),
    figure('cost.edgeUsPerBatchEvent', 'µs/event'),
    figure('cost.edgeUsPerSingleRequest', 'µs/req'),
    figure('cost.edgeUsPerRankRead', 'µs/read'),
  ];
}

export const cluster: BenchmarkGroup = {
  name: 'cluster',
  description:
    'the service on a real Redis Cluster of 1 and of 3 masters (edge and worker in child processes): ' +
    'Redis, worker and edge CPU per event for appends, apply and rank reads, events/s, memory per member',
  figures: [
    ...sizeFigures('oneShard'),
    ...sizeFigures('threeShards'),
    { path: 'cluster.threeShards.maxShardCpuShare.apply', unit: 'share' },
    { path: 'cluster.memory.bytesPerMember', unit: 'bytes' },
    { path: 'cluster.memory.bytesPerStreamEntry', unit: 'bytes' },
  ],
  async prepare(context) {
    const seconds = Number(process.env.BENCH_CLUSTER_SECONDS ?? (context.quick ? 1 : 4));
    const users = context.quick ? 10_000 : 100_000;
    const setups: SizeSetup[] = [];
    try {
      for (const size of SIZES) setups.push(await startSize(context, size.label, size.masters));
    } catch (error) {
      await Promise.all(setups.map(stopSize));
      throw error;
    }
    const bodies = Array.from({ length: Math.ceil(users / BATCH_EVENTS) }, (_, b) =>
      JSON.stringify({
        events: Array.from({ length: BATCH_EVENTS }, (_, i) => ({
          board: BOARD,
          userId: `u${(b * BATCH_EVENTS + i) % users}`,
          value: 1 + ((b + i) % 100),
        })),
      }),
    );
    return {
      parameters: {
        seconds,
        users,
        partitions: PARTITIONS,
        batchEvents: BATCH_EVENTS,
        batchConnections: BATCH_CONNECTIONS,
        connections: CONNECTIONS,
        masters: SIZES.map((s) => s.masters).join(' and '),
        processes: 'edge and worker each in a child process; autocannon in the bench process',
      },
      async run(repetition) {
        const sample: Sample = {};
        for (const setup of setups) {
          Object.assign(
            sample,
            await runSize(context, setup, repetition, {
              seconds: repetition.warmup ? Math.min(1, seconds) : seconds,
              users,
              bodies,
            }),
          );
        }
        return sample;
      },
      async dispose() {
        await Promise.all(setups.map(stopSize));
      },
    };
  },
};

interface SizeSetup {
  label: SizeLabel;
  target: ClusterTarget;
  client: Cluster;
  edge: Child;
  edgeUrl: string;
  prefix: string;
  dataDir: string;
}

async function startSize(context: BenchContext, label: SizeLabel, masters: number): Promise<SizeSetup> {
  const target = await startClusterTarget(masters);
  // KEY_PREFIX allows [A-Za-z0-9_-] only.
  const prefix = `cb_${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'lb-bench-cluster-edge-'));
  let edge: Child | undefined;
  try {
    edge = spawnChild('edge', childEnv(target, prefix, { DATA_DIR: dataDir }));
    const { port } = await edge.request<{ port: number }>({ type: 'ready' }, 60_000);
    const client = new Cluster(target.ports.map((port) => ({ host: '127.0.0.1', port })));
    await client.ping(); // ready: it knows the masters
    context.log(`cluster: ${masters} master(s) at ${target.seeds.join(',')}, edge on port ${port}`);
    return { label, target, client, edge, edgeUrl: `http://127.0.0.1:${port}`, prefix, dataDir };
  } catch (error) {
    edge?.kill();
    await target.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function stopSize(setup: SizeSetup): Promise<void> {
  await setup.edge.stop();
  setup.client.disconnect();
  await setup.target.stop();
  rmSync(setup.dataDir, { recursive: true, force: true });
}

function childEnv(
  target: ClusterTarget,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    REDIS_CLUSTER: target.seeds.join(','),
    KEY_PREFIX: prefix,
    PARTITIONS: String(PARTITIONS),
    API_KEYS: `${API_KEY}=ingest+admin+read`,
    RATE_LIMIT_RPS: '0',
    ANONYMOUS_RATE_LIMIT_RPS: '0',
    HIGH_WATER_MARK: '1000000000',
    LOG_LEVEL: 'silent',
    PORT: '0',
    ...extra,
  };
}

interface RunSettings {
  seconds: number;
  users: number;
  bodies: string[];
}

async function runSize(
  context: BenchContext,
  setup: SizeSetup,
  repetition: Repetition,
  settings: RunSettings,
): Promise<Sample> {
  const { label, target, client, edge, edgeUrl, prefix } = setup;
  const at = (path: string) => `cluster.${label}.${path}`;
  await Promise.all(client.nodes('master').map((node) => node.flushall('SYNC')));
  await putBoard(edgeUrl);
  const sample: Sample = {};

  // 1. Batch ingest.
  const batch = await measured(target, edge, () =>
    cannon(edgeUrl, settings.seconds, BATCH_CONNECTIONS, {
      method: 'POST',
      path: '/v1/events',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      bodies: (n) => settings.bodies[n % settings.bodies.length]!,
    }),
  );
  const batchEvents = batch.result.answered * BATCH_EVENTS;
  sample[at('batchIngestEventsPerSec')] = batchEvents / batch.result.seconds;
  sample[at('cost.redisUsPerEvent.batchAppend')] = batch.redis.cpuMicros / batchEvents;
  sample[at('cost.redisScriptUsPerEvent.batchAppend')] = scriptMicros(batch.redis) / batchEvents;
  sample[at('cost.edgeUsPerBatchEvent')] = batch.edgeMicros / batchEvents;

  // 2. Single-event ingest.
  const single = await measured(target, edge, () =>
    cannon(edgeUrl, settings.seconds, CONNECTIONS, {
      method: 'POST',
      path: `/v1/boards/${BOARD}/events`,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      bodies: (n) => `{"userId":"u${(n * 7919) % settings.users}","value":${1 + (n % 100)}}`,
    }),
  );
  const singles = single.result.answered;
  sample[at('singleIngestRps')] = singles / single.result.seconds;
  sample[at('cost.redisUsPerEvent.singleAppend')] = single.redis.cpuMicros / singles;
  sample[at('cost.redisXaddUsPerEvent.singleAppend')] = (single.redis.commands.xadd ?? 0) / singles;
  sample[at('cost.edgeUsPerSingleRequest')] = single.edgeMicros / singles;

  // 3. Apply everything the streams hold, in a worker process.
  const streams = Array.from({ length: PARTITIONS }, (_, p) => partitionKeys(prefix, p).stream);
  const lengths = await Promise.all(streams.map((stream) => client.xlen(stream)));
  const total = lengths.reduce((a, b) => a + b, 0);
  const worker = spawnChild('worker', childEnv(target, prefix));
  let applyRedis: ReturnType<typeof counterDelta>;
  try {
    await worker.request({ type: 'ready' }, 60_000);
    const applied = await measured(target, undefined, () =>
      worker.request<{ seconds: number; cpuMicros: number }>({ type: 'apply', target: total }, 300_000),
    );
    applyRedis = applied.redis;
    sample[at('applyEventsPerSec')] = total / applied.result.seconds;
    sample[at('cost.redisUsPerEvent.apply')] = applied.redis.cpuMicros / total;
    sample[at('cost.redisScriptUsPerEvent.apply')] = scriptMicros(applied.redis) / total;
    sample[at('cost.workerNodeUsPerEvent')] = applied.result.cpuMicros / total;
    if (label === 'threeShards') {
      sample['cluster.threeShards.maxShardCpuShare.apply'] =
        Math.max(...applied.redis.perNodeCpuMicros) / applied.redis.cpuMicros;
    }
  } finally {
    await worker.stop();
  }

  // 4. Rank reads, every user ranked by now.
  const reads = await measured(target, edge, () =>
    cannon(edgeUrl, settings.seconds, CONNECTIONS, {
      method: 'GET',
      path: `/v1/boards/${BOARD}/users/u0`,
      paths: (n) => `/v1/boards/${BOARD}/users/u${(n * 7919) % settings.users}`,
    }),
  );
  const answered = reads.result.answered;
  sample[at('rankReadsPerSec')] = answered / reads.result.seconds;
  sample[at('cost.redisUsPerRankRead')] = reads.redis.cpuMicros / answered;
  sample[at('cost.edgeUsPerRankRead')] = reads.edgeMicros / answered;

  if (label === 'threeShards') Object.assign(sample, await memoryFigures(client, prefix, streams, total));
  for (const [phase, spent, events] of [
    ['batch', batch.redis, batchEvents],
    ['single', single.redis, singles],
    ['apply', applyRedis, total],
    ['rank', reads.redis, answered],
  ] as const) {
    context.log(
      `cluster: ${label} ${phase}: Redis command time per event (µs) ${topCommands(spent, events)}`,
    );
  }
  context.log(
    `cluster: ${label}${repetition.warmup ? ' (warm-up)' : ''}: batch ${Math.round(sample[at('batchIngestEventsPerSec')]!)} ev/s, ` +
      `single ${Math.round(sample[at('singleIngestRps')]!)} req/s, apply ${Math.round(sample[at('applyEventsPerSec')]!)} ev/s ` +
      `(${total} events), rank ${Math.round(sample[at('rankReadsPerSec')]!)} req/s`,
  );
  return sample;
}

/**
 * Time spent inside scripts (`evalsha`, `eval`): the library's appends and applies. The commands
 * a script calls are counted again under their own names in `INFO commandstats`, so the sum over
 * every command would count them twice.
 */
function scriptMicros(spent: ReturnType<typeof counterDelta>): number {
  return (spent.commands.evalsha ?? 0) + (spent.commands.eval ?? 0);
}

/** The commands that took the most time, per event: `evalsha=5.1 xadd=3.2 ...`. */
function topCommands(spent: ReturnType<typeof counterDelta>, events: number): string {
  return Object.entries(spent.commands)
    .filter(([, usec]) => usec > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name, usec]) => `${name}=${(usec / events).toFixed(2)}`)
    .join(' ');
}

/** Bytes per member of the score sets and per entry of the streams (`MEMORY USAGE`, exact). */
async function memoryFigures(
  client: Cluster,
  prefix: string,
  streams: string[],
  entries: number,
): Promise<Sample> {
  const sets = Array.from({ length: PARTITIONS }, (_, p) => stateKeys(prefix, p).scores(BOARD, 'all:0'));
  const usage = (key: string) =>
    client.call('MEMORY', 'USAGE', key, 'SAMPLES', '0') as Promise<number | null>;
  const [setBytes, members, streamBytes] = await Promise.all([
    Promise.all(sets.map(usage)),
    Promise.all(sets.map((key) => client.zcard(key))),
    Promise.all(streams.map(usage)),
  ]);
  const sum = (values: (number | null)[]) => values.reduce<number>((a, b) => a + (b ?? 0), 0);
  return {
    'cluster.memory.bytesPerMember': sum(setBytes) / sum(members),
    'cluster.memory.bytesPerStreamEntry': sum(streamBytes) / entries,
  };
}

async function putBoard(edgeUrl: string): Promise<void> {
  const res = await fetch(`${edgeUrl}/v1/boards/${BOARD}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      id: BOARD,
      policy: 'sum',
      order: 'desc',
      windows: ['all'],
      topK: 100,
      graceSeconds: 300,
      retentionDays: 30,
    }),
  });
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`PUT board: ${res.status} ${await res.text()}`);
}

interface Measured<T> {
  result: T;
  redis: ReturnType<typeof counterDelta>;
  edgeMicros: number;
}

/** Runs `work` between two readings of the masters' counters and of the edge's CPU. */
async function measured<T>(target: ClusterTarget, edge: Child | undefined, work: () => Promise<T>) {
  const cpu = async () => (edge ? (await edge.request<{ micros: number }>({ type: 'cpu' })).micros : 0);
  const redisBefore: NodeCounters[] = await target.counters();
  const edgeBefore = await cpu();
  const result = await work();
  const edgeAfter = await cpu();
  const redisAfter = await target.counters();
  return {
    result,
    redis: counterDelta(redisBefore, redisAfter),
    edgeMicros: edgeAfter - edgeBefore,
  } as Measured<T>;
}

// ---------------------------------------------------------------------------------------------
// The child processes: the edge (`startService`, workers 0) and a worker (`LeaderboardWorkers`).

interface Child {
  request<T = unknown>(message: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
  kill(): void;
}

function spawnChild(role: 'edge' | 'worker', env: Record<string, string>): Child {
  // The child's Redis is the cluster's alone (the configuration refuses two deployments).
  const { REDIS_URL: _url, REDIS_SENTINELS: _sentinels, ...inherited } = process.env;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, role], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Under tsx the loader is in execArgv; from dist it is empty.
    execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
  });
  let sequence = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (message: { id: number; error?: string }) => {
    const waiter = waiting.get(message.id);
    if (!waiter) return;
    waiting.delete(message.id);
    if (message.error) waiter.reject(new Error(`cluster bench ${role}: ${message.error}`));
    else waiter.resolve(message);
  });
  child.once('exit', (code) => {
    for (const waiter of waiting.values())
      waiter.reject(new Error(`cluster bench ${role} exited with ${code}`));
    waiting.clear();
  });
  return {
    request<T>(message: Record<string, unknown>, timeoutMs = 30_000) {
      const id = sequence++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`cluster bench ${role}: no answer to ${message.type} in ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ ...message, id });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    kill: () => child.kill('SIGKILL'),
  };
}

async function runChild(role: 'edge' | 'worker'): Promise<void> {
  // Listening first: a message that arrives before a listener is dropped.
  let apply: ((target: number) => Promise<Record<string, unknown>>) | undefined;
  let stop: () => Promise<void> = async () => {};
  const started = startChild(role).then((child) => {
    apply = child.apply;
    stop = child.stop;
    return child.ready;
  });
  started.catch(() => {}); // answered to the parent's 'ready'
  process.on('message', (message: { type: string; id: number; target?: number }) => {
    const answer = (body: Record<string, unknown>) => process.send!({ ...body, id: message.id });
    const fail = (error: unknown) => answer({ error: String(error) });
    if (message.type === 'ready') started.then(answer, fail);
    else if (message.type === 'cpu') {
      const cpu = process.cpuUsage();
      answer({ micros: cpu.user + cpu.system });
    } else if (message.type === 'apply' && apply) apply(message.target!).then(answer, fail);
  });
  const shutdown = () => {
    void started
      .catch(() => {})
      .then(() => stop())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);
}

async function startChild(role: 'edge' | 'worker'): Promise<{
  ready: Record<string, unknown>;
  stop: () => Promise<void>;
  apply?: (target: number) => Promise<Record<string, unknown>>;
}> {
  const { loadConfig } = await import('../../server/config.js');
  const config = loadConfig(process.env);
  if (role === 'edge') {
    const { startService } = await import('../../server/main.js');
    const running = await startService(config, { workers: 0, http: true });
    return { ready: { port: Number(new URL(running.url!).port) }, stop: () => running.stop() };
  }
  const { connectRedis } = await import('../../server/redisConnection.js');
  const { BoardRegistry, LeaderboardWorkers } = await import('../../leaderboard/index.js');
  const redis = connectRedis(config);
  redis.on('error', () => {});
  let workers: InstanceType<typeof LeaderboardWorkers> | undefined;
  const apply = async (target: number) => {
    let failure: unknown;
    workers = new LeaderboardWorkers({
      redis,
      boards: new BoardRegistry(redis, config.KEY_PREFIX),
      name: config.KEY_PREFIX,
      partitions: config.PARTITIONS,
      onError: (error) => {
        failure ??= error;
      },
    });
    const cpuBefore = process.cpuUsage();
    const startedAt = process.hrtime.bigint();
    await workers.start();
    const counter = workers.metrics.eventsApplied;
    for (;;) {
      const applied = (await counter.get()).values[0]?.value ?? 0;
      if (applied >= target) break;
      if (failure) throw failure;
      await sleep(5);
    }
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    await workers.stop();
    workers = undefined;
    return { seconds, cpuMicros: cpu.user + cpu.system };
  };
  return {
    ready: {},
    apply,
    async stop() {
      await workers?.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

if (process.argv[2] === CHILD_FLAG) await runChild(process.argv[3] as 'edge' | 'worker');
