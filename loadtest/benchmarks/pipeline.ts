/**
 * Throughput and freshness of the leaderboard topology (`LeaderboardWorkers`): score events taken
 * from 16 partition streams to updated sorted sets, against three ways of applying the very same
 * event sequence to sorted sets on the same Redis without streams (the baselines).
 *
 * Sequences (generated once, seeded, so every repetition and every baseline sees the same events):
 * board `bench` (policy sum, order desc, K = 100), users `u<n>` over 1,000,000 ids, values
 * 1..100, drawn uniformly or by Zipf (s = 1.1: user u0 alone is 12.4% of the events, and its
 * partition gets 16.9% of them instead of 6.25%).
 *
 * Prepare (not timed): a calibration run of 200,000 events of each kind sizes the sequences so
 * that the pipeline needs about `BENCH_PIPELINE_SECONDS` (default 11) to drain the uniform and
 * the Zipf ones and `BENCH_PIPELINE_FOUR_SECONDS` (default 5) for the secondary four-window run;
 * then the streams of three families are PRE-FILLED once through `EventWriter.append` (1000
 * events per call, 4 calls in flight): the uniform sequence, the Zipf sequence, and a uniform
 * prefix for the four-window run. Every repetition replays them.
 *
 * One repetition (halves 1 and 2 swap order on odd repetitions):
 * 1. pipeline: per family, a fresh consumer group on the retained streams (a replay from the
 *    start, as after a failure) and empty state, then `LeaderboardWorkers` (16 partitions, batch
 *    1000, refresh 20 ms) in this process. Timed from `start()` until the `eventsApplied` counter
 *    reaches the number of entries (polled every 5 ms); checked afterwards: nothing pending or
 *    undelivered, no late or dead-lettered event, ZCARD over the partitions = distinct users.
 *    Runs: uniform with windows [all] and Zipf with [all] (primary), the uniform prefix with
 *    [all, day, week, month] (secondary: four sorted-set updates per event). Each run's CPU per
 *    event: redis-server's (INFO cpu, every thread) and this process's (`process.cpuUsage`), as
 *    `cost.*UsPerEvent` (uniform without a variant in the path), which the capacity model reads.
 *    Then the Zipf family again through the built CLI, `leaderboard work --processes N` for N = 1
 *    and 2 (processes of their own, timed from the first applied entry seen to the last, the
 *    backlog polled every 20 ms): the figure for one worker process per core.
 * 2. baselines, from memory, into 16 per-partition sorted sets keyed as the pipeline keys them:
 *    (a) redis-rank `Leaderboard.updateOne(id, value)` (policy aggregate = one ZINCRBY in its own
 *        pipeline), one call per event, 64 callers each awaiting its call (bounded concurrency),
 *        for the first `BENCH_PIPELINE_RR_SECONDS` (default 3) seconds of the uniform sequence;
 *    (b) `ZINCRBY` in ioredis pipelines of 1000, in sequence order, 4 pipelines in flight, over
 *        the whole uniform sequence;
 *    (c) one Lua script call per 1000 events of one partition (1000 `redis.call('ZINCRBY')`),
 *        4 calls in flight, over the whole uniform sequence and again over the Zipf sequence.
 *        No pre-aggregation: what one Redis core does event by event.
 * 3. freshness, a latency/throughput curve: at 10, 25, 50, 75 and 90 % of this repetition's
 *    uniform pipeline rate, a worker process (`leaderboard work --processes 1` from the build, as
 *    the service runs its workers) on an empty family and a producer in a worker thread
 *    appending uniform events at that rate (one `Producer.append` every 5 ms, paced by the clock)
 *    for `BENCH_PIPELINE_FRESH_SECONDS` (default 6; 60 % of it for the points other than 50 %),
 *    with a marker event every 10 ms: a fresh user whose value (1e9 + n) puts it at rank 1. For
 *    each marker: accepted = the millisecond of its stream entry id (Redis's clock at XADD, what
 *    the 202 waits for); delivered = `Date.now()` in a reader thread that is told of each new
 *    snapshot version as an edge is (`SnapshotFeed`) and reads it as the live route does, once a
 *    top listing the marker is in hand (what an SSE client is sent then). Freshness = delivered -
 *    accepted: p50, p99 and max over the markers after the first second, per point
 *    (`freshness.curve.<i>`); `freshness.p50Ms`/`p99Ms` are the 50 % point's. A top is merged
 *    when a batch marks it, at most every `refreshMs` (`BENCH_PIPELINE_REFRESH_MS`, default the
 *    service's 20). A marker never delivered (pushed out of the top 100 before a merge, or
 *    unapplied 2 s after the producer stopped) counts with the time it was given up on, a lower
 *    bound, and is logged.
 * Ratios: the uniform figure against (b) and against (c), Zipf against (c) on the Zipf sequence,
 * the four-window run against the one-window run.
 *
 * `BENCH_QUICK` uses 50,000 events per sequence without calibration, and short runs.
 * `BENCH_WORK_NODE_ARGS` passes node options to the worker processes (the freshness curve's and
 * the `--processes` runs), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Redis, type Result } from 'ioredis';
import { Leaderboard } from 'redis-rank';
import {
  membersKey,
  Producer,
  partitionFor,
  partitionKeys,
  StreamAdmin,
} from 'redis-streams-consumer-groups';
import {
  BoardRegistry,
  DEFAULTS,
  EventWriter,
  LeaderboardQueries,
  LeaderboardWorkers,
  type ScoreEvent,
  SnapshotFeed,
  scoreEventCodec,
} from '../../leaderboard/index.js';
import { snapshotKeyPrefix, stateKeys } from '../../operators/stateKeys.js';

type WindowName = string;

import type { BenchContext, BenchmarkGroup, Repetition, Sample } from '../harness/benchmark.js';

const PARTITIONS = 16;
const USERS = 1_000_000;
const ZIPF_S = 1.1;
const BOARD = 'bench';
const BATCH = 1000;
const IN_FLIGHT = 4;
const REFRESH_MS = Number(process.env.BENCH_PIPELINE_REFRESH_MS ?? 20); // the service's default
const STALL_MS = 180_000;
/** The points of the freshness curve: shares of the repetition's uniform drain rate. */
const FRESH_SHARES = [0.1, 0.25, 0.5, 0.75, 0.9] as const;
/** `leaderboard work --processes N` runs, on the Zipf family (where Node is the bound). */
const PROCESS_COUNTS = [1, 2] as const;

/** A sequence of events: user indexes and values, the same for the pipeline and the baselines. */
interface Sequence {
  label: string;
  users: Uint32Array;
  values: Uint8Array;
  /** Distinct users in the sequence. */
  distinct: number;
}

interface Family {
  name: string;
  sequence: Sequence;
  /** How many events of the sequence were appended (a prefix for the four-window family). */
  count: number;
  distinct: number;
  windows: WindowName[];
}

const userIds: string[] = [];
const partitionOfUser = new Uint8Array(USERS);

function ensureUserTables(): void {
  if (userIds.length > 0) return;
  for (let i = 0; i < USERS; i++) {
    const id = `u${i}`;
    userIds.push(id);
    partitionOfUser[i] = partitionFor(id, PARTITIONS);
  }
}

export const pipeline: BenchmarkGroup = {
  name: 'pipeline',
  description:
    'LeaderboardWorkers draining pre-filled streams (16 partitions, sum board) vs redis-rank updateOne, ' +
    'pipelined ZINCRBY and a 1000-ZINCRBY Lua script over the same events; freshness XADD -> top-K snapshot',
  figures: [
    {
      path: 'pipeline.uniform.eventsPerSec',
      unit: 'events/s',
      baseline: 'baselines.pipelinedZincrby',
    },
    {
      path: 'pipeline.uniform.eventsPerSecVsLua',
      unit: 'events/s',
      baseline: 'baselines.luaBatchLimit',
    },
    { path: 'pipeline.zipf.eventsPerSec', unit: 'events/s', baseline: 'baselines.zipf.luaBatchLimit' },
    {
      path: 'pipeline.fourWindows.uniform.eventsPerSec',
      unit: 'events/s',
      baseline: 'pipeline.uniform.eventsPerSec',
    },
    ...PROCESS_COUNTS.map((n) => ({
      path: `pipeline.zipf.processes.${n}.eventsPerSec`,
      unit: 'events/s',
      baseline: 'baselines.zipf.luaBatchLimit',
    })),
    { path: 'cost.redisUsPerEvent', unit: 'µs' },
    { path: 'cost.nodeUsPerEvent', unit: 'µs' },
    { path: 'cost.zipf.redisUsPerEvent', unit: 'µs' },
    { path: 'cost.zipf.nodeUsPerEvent', unit: 'µs' },
    { path: 'cost.fourWindows.redisUsPerEvent', unit: 'µs' },
    { path: 'cost.fourWindows.nodeUsPerEvent', unit: 'µs' },
    { path: 'baselines.redisRankPerEvent', unit: 'events/s' },
    { path: 'baselines.pipelinedZincrby', unit: 'events/s' },
    { path: 'baselines.luaBatchLimit', unit: 'events/s' },
    { path: 'baselines.zipf.luaBatchLimit', unit: 'events/s' },
    { path: 'freshness.p50Ms', unit: 'ms' },
    { path: 'freshness.p99Ms', unit: 'ms' },
    { path: 'freshness.offeredEventsPerSec', unit: 'events/s' },
    ...FRESH_SHARES.flatMap((_, i) => [
      { path: `freshness.curve.${i}.offeredShare`, unit: 'of max' },
      { path: `freshness.curve.${i}.offeredEventsPerSec`, unit: 'events/s' },
      { path: `freshness.curve.${i}.achievedEventsPerSec`, unit: 'events/s' },
      { path: `freshness.curve.${i}.p50Ms`, unit: 'ms' },
      { path: `freshness.curve.${i}.p99Ms`, unit: 'ms' },
      { path: `freshness.curve.${i}.maxMs`, unit: 'ms' },
    ]),
  ],
  async prepare(context) {
    ensureUserTables();
    const seconds = Number(process.env.BENCH_PIPELINE_SECONDS ?? 11);
    const fourSeconds = Number(process.env.BENCH_PIPELINE_FOUR_SECONDS ?? 5);
    const freshSeconds = Number(process.env.BENCH_PIPELINE_FRESH_SECONDS ?? (context.quick ? 3 : 6));
    const redisRankSeconds = Number(process.env.BENCH_PIPELINE_RR_SECONDS ?? (context.quick ? 1 : 3));
    const client = new Redis(context.redisUrl);
    const workerClient = new Redis(context.redisUrl);
    const baselineClient = new Redis(context.redisUrl);
    defineLuaBaseline(baselineClient);
    const families: Family[] = [];
    const bench = {
      client,
      workerClient,
      baselineClient,
      families,
      freshSeconds,
      redisRankSeconds,
      calibratedRate: 0,
    };
    try {
      let sizes = { uniform: 50_000, zipf: 50_000, fourWindows: 50_000 };
      if (!context.quick) sizes = await calibrate(context, bench, seconds, fourSeconds);
      const ts = Date.now();
      const uniform = uniformSequence(sizes.uniform, 1);
      const zipf = zipfSequence(sizes.zipf, 2);
      const all: WindowName[] = ['all'];
      const four: WindowName[] = ['all', 'day', 'week', 'month'];
      const fourCount = Math.min(sizes.fourWindows, uniform.users.length);
      for (const [label, sequence, count, windows] of [
        ['uniform', uniform, uniform.users.length, all],
        ['zipf', zipf, zipf.users.length, all],
        ['fourWindows', uniform, fourCount, four],
      ] as const) {
        // A name the CLI takes as its KEY_PREFIX too (the work-process runs).
        const name = keyPrefix(context.uniquePrefix(`pl-${label}`));
        const started = Date.now();
        await prefill(client, name, sequence, count, ts);
        const distinct = count === sequence.users.length ? sequence.distinct : distinctUsers(sequence, count);
        families.push({ name, sequence, count, distinct, windows: [...windows] });
        context.log(
          `pipeline: pre-filled ${count} ${sequence.label} events (${distinct} users) into ${name} ` +
            `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
      }
    } catch (error) {
      await Promise.all([client.quit(), workerClient.quit(), baselineClient.quit()]);
      throw error;
    }
    return {
      parameters: {
        partitions: PARTITIONS,
        users: USERS,
        zipfS: ZIPF_S,
        uniformEvents: families[0]!.count,
        zipfEvents: families[1]!.count,
        fourWindowEvents: families[2]!.count,
        targetSeconds: seconds,
        fourWindowTargetSeconds: fourSeconds,
        batchSize: BATCH,
        refreshMs: REFRESH_MS,
        baselineInFlight: IN_FLIGHT,
        redisRankCallers: 64,
        redisRankSeconds,
        freshSeconds,
      },
      run: (repetition) => runRepetition(context, bench, repetition),
      async dispose() {
        for (const family of families) await deleteFamily(client, family.name, []);
        await Promise.all([client.quit(), workerClient.quit(), baselineClient.quit()]);
      },
    };
  },
};

interface Bench {
  client: Redis;
  workerClient: Redis;
  baselineClient: Redis;
  families: Family[];
  freshSeconds: number;
  redisRankSeconds: number;
  /** Uniform events/s of the calibration, the freshness rate of the warm-up. */
  calibratedRate: number;
}

async function runRepetition(context: BenchContext, bench: Bench, repetition: Repetition): Promise<Sample> {
  const [uniform, zipf, four] = bench.families as [Family, Family, Family];
  if (repetition.warmup) {
    // The calibration already ran the pipeline; warm the baselines' and freshness' code paths.
    const count = Math.min(uniform.count, 100_000);
    const small = { ...uniform, count, distinct: distinctUsers(uniform.sequence, count) };
    await baselineZincrby(context, bench.baselineClient, small);
    await baselineLua(context, bench.baselineClient, small);
    await freshness(context, bench, Math.max(1000, bench.calibratedRate / 2), 2);
    return {};
  }
  const sample: Sample = {};
  const pipelines = async () => {
    const measured = {
      uniform: await measurePipeline(context, bench, uniform),
      zipf: await measurePipeline(context, bench, zipf),
      fourWindows: await measurePipeline(context, bench, four),
    };
    sample['pipeline.uniform.eventsPerSec'] = measured.uniform.rate;
    sample['pipeline.uniform.eventsPerSecVsLua'] = measured.uniform.rate;
    sample['pipeline.zipf.eventsPerSec'] = measured.zipf.rate;
    sample['pipeline.fourWindows.uniform.eventsPerSec'] = measured.fourWindows.rate;
    sample['cost.redisUsPerEvent'] = measured.uniform.redisUs;
    sample['cost.nodeUsPerEvent'] = measured.uniform.nodeUs;
    for (const kind of ['zipf', 'fourWindows'] as const) {
      sample[`cost.${kind}.redisUsPerEvent`] = measured[kind].redisUs;
      sample[`cost.${kind}.nodeUsPerEvent`] = measured[kind].nodeUs;
    }
    for (const processes of PROCESS_COUNTS) {
      sample[`pipeline.zipf.processes.${processes}.eventsPerSec`] = await measureWorkProcesses(
        context,
        bench,
        zipf,
        processes,
      );
    }
  };
  const baselines = async () => {
    const redis = bench.baselineClient;
    sample['baselines.redisRankPerEvent'] = await baselineRedisRank(
      context,
      redis,
      uniform,
      bench.redisRankSeconds,
    );
    sample['baselines.pipelinedZincrby'] = await baselineZincrby(context, redis, uniform);
    sample['baselines.luaBatchLimit'] = await baselineLua(context, redis, uniform);
    sample['baselines.zipf.luaBatchLimit'] = await baselineLua(context, redis, zipf);
    context.log(
      `pipeline: baselines redis-rank=${Math.round(sample['baselines.redisRankPerEvent'])}/s ` +
        `zincrby=${Math.round(sample['baselines.pipelinedZincrby'])}/s lua=${Math.round(sample['baselines.luaBatchLimit'])}/s ` +
        `lua(zipf)=${Math.round(sample['baselines.zipf.luaBatchLimit'])}/s`,
    );
  };
  // Alternate which half runs first, so neither always meets a warmer or busier machine.
  if (repetition.index % 2 === 1) {
    await baselines();
    await pipelines();
  } else {
    await pipelines();
    await baselines();
  }
  const uniformRate = sample['pipeline.uniform.eventsPerSec']!;
  for (const [i, share] of FRESH_SHARES.entries()) {
    // The half-load point is the headline: it runs the full time, the others a shorter one.
    const seconds = share === 0.5 ? bench.freshSeconds : Math.max(2, Math.round(bench.freshSeconds * 0.6));
    const fresh = await freshness(context, bench, uniformRate * share, seconds);
    const point = `freshness.curve.${i}`;
    sample[`${point}.offeredShare`] = share;
    sample[`${point}.offeredEventsPerSec`] = fresh.offered;
    sample[`${point}.achievedEventsPerSec`] = fresh.achieved;
    sample[`${point}.p50Ms`] = fresh.p50;
    sample[`${point}.p99Ms`] = fresh.p99;
    sample[`${point}.maxMs`] = fresh.max;
    if (share === 0.5) {
      sample['freshness.p50Ms'] = fresh.p50;
      sample['freshness.p99Ms'] = fresh.p99;
      sample['freshness.offeredEventsPerSec'] = fresh.offered;
    }
  }
  return sample;
}

// ---------------------------------------------------------------------------------------------
// Sequences

/** mulberry32: a small, seeded PRNG, so every run draws the same sequences. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniformSequence(n: number, seed: number): Sequence {
  const next = random(seed);
  const users = new Uint32Array(n);
  const values = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    users[i] = Math.floor(next() * USERS);
    values[i] = 1 + Math.floor(next() * 100);
  }
  return { label: 'uniform', users, values, distinct: distinctUsers({ users }, n) };
}

let zipfCdf: Float64Array | undefined;

/** Zipf(s) over USERS ids: rank k (1-based) has weight k^-s; rank k is user `u<k-1>`. */
function zipfSequence(n: number, seed: number): Sequence {
  if (!zipfCdf) {
    zipfCdf = new Float64Array(USERS);
    let sum = 0;
    for (let k = 1; k <= USERS; k++) {
      sum += k ** -ZIPF_S;
      zipfCdf[k - 1] = sum;
    }
  }
  const cdf = zipfCdf;
  const total = cdf[USERS - 1]!;
  const next = random(seed);
  const users = new Uint32Array(n);
  const values = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const target = next() * total;
    let lo = 0;
    let hi = USERS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    users[i] = lo;
    values[i] = 1 + Math.floor(next() * 100);
  }
  return { label: 'zipf', users, values, distinct: distinctUsers({ users }, n) };
}

function distinctUsers(sequence: Pick<Sequence, 'users'>, count: number): number {
  const seen = new Uint8Array(USERS);
  let distinct = 0;
  for (let i = 0; i < count; i++) {
    const u = sequence.users[i]!;
    if (seen[u] === 0) {
      seen[u] = 1;
      distinct++;
    }
  }
  return distinct;
}

/** Appends the first `count` events through `EventWriter.append`, 1000 per call, 4 calls in flight. */
async function prefill(redis: Redis, name: string, sequence: Sequence, count: number, ts: number) {
  const writer = new EventWriter(redis, { name, partitions: PARTITIONS, backlogRefreshMs: 60_000 });
  try {
    const inFlight = new Set<Promise<void>>();
    for (let start = 0; start < count; start += BATCH) {
      const events: ScoreEvent[] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i++) {
        events.push({
          board: BOARD,
          userId: userIds[sequence.users[i]!]!,
          value: sequence.values[i]!,
          ts: ts + Math.floor(i / 1000),
        });
      }
      const append = writer.append(events).finally(() => inFlight.delete(append));
      inFlight.add(append);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    writer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The pipeline

let runs = 0;

/** Sizes the sequences from a short pipeline run of each kind: rate x target seconds. */
async function calibrate(context: BenchContext, bench: Bench, seconds: number, fourSeconds: number) {
  const n = 200_000;
  const ts = Date.now();
  const kinds = [
    ['uniform', uniformSequence(n, 101), ['all']],
    ['zipf', zipfSequence(n, 102), ['all']],
    ['fourWindows', uniformSequence(n, 103), ['all', 'day', 'week', 'month']],
  ] as const;
  const rates: Record<string, number> = {};
  for (const [label, sequence, windows] of kinds) {
    const name = context.uniquePrefix(`cal-${label}`);
    await prefill(bench.client, name, sequence, n, ts);
    const family: Family = { name, sequence, count: n, distinct: sequence.distinct, windows: [...windows] };
    try {
      rates[label] = (await measurePipeline(context, bench, family)).rate;
    } finally {
      await deleteFamily(bench.client, name, []);
    }
  }
  bench.calibratedRate = rates.uniform!;
  const size = (rate: number, s: number) => Math.max(BATCH, Math.round((rate * s) / BATCH) * BATCH);
  const sizes = {
    uniform: Number(process.env.BENCH_PIPELINE_EVENTS ?? size(rates.uniform!, seconds)),
    zipf: Number(process.env.BENCH_PIPELINE_ZIPF_EVENTS ?? size(rates.zipf!, seconds)),
    fourWindows: Number(process.env.BENCH_PIPELINE_FOUR_EVENTS ?? size(rates.fourWindows!, fourSeconds)),
  };
  context.log(
    `pipeline: calibration ${Object.entries(rates)
      .map(([k, v]) => `${k}=${Math.round(v)}/s`)
      .join(' ')} -> events ${JSON.stringify(sizes)} for ~${seconds} s (four windows ~${fourSeconds} s)`,
  );
  return sizes;
}

async function putBoard(redis: Redis, name: string, windows: WindowName[]): Promise<BoardRegistry> {
  const boards = new BoardRegistry(redis, name);
  await boards.put({
    id: BOARD,
    policy: 'sum',
    order: 'desc',
    windows,
    topK: 100,
    graceSeconds: 300,
    retentionDays: 30,
  });
  return boards;
}

/** A pipeline run's throughput and CPU per event (of redis-server, and of this process). */
interface PipelineRun {
  rate: number;
  redisUs: number;
  nodeUs: number;
}

/** redis-server's CPU time so far (every thread, user and system), µs. */
async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

/**
 * Replays a pre-filled family through `LeaderboardWorkers` under a fresh group and empty state;
 * events/s from `start()` to the last entry applied, and the CPU both sides spent meanwhile per
 * event (this process's includes its 5 ms polling of the counter, which is next to nothing).
 */
async function measurePipeline(context: BenchContext, bench: Bench, family: Family): Promise<PipelineRun> {
  const { client, workerClient } = bench;
  const group = `w${runs++}`;
  await resetState(client, family.name);
  const boards = await putBoard(client, family.name, family.windows);
  await waitForLazyFree(client);
  let failure: unknown;
  const workers = new LeaderboardWorkers({
    redis: workerClient,
    boards,
    name: family.name,
    group,
    partitions: PARTITIONS,
    refreshMs: REFRESH_MS,
    consumer: { batchSize: BATCH, blockMs: 250, leaseMs: 10_000, consumerId: 'bench' },
    onError: (error) => {
      failure ??= error;
    },
  });
  let seconds = 0;
  let redisUs = 0;
  let nodeUs = 0;
  const redisBefore = await redisCpuUs(client);
  const nodeBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await workers.start();
  const counter = workers.metrics.eventsApplied;
  const applied = async () => (await counter.get()).values[0]?.value ?? 0;
  try {
    const deadline = Date.now() + STALL_MS;
    for (;;) {
      if ((await applied()) >= family.count) break;
      if (failure) throw failure;
      if (Date.now() > deadline) throw new Error(`pipeline stalled at ${await applied()} of ${family.count}`);
      await sleep(5);
    }
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const node = process.cpuUsage(nodeBefore);
    nodeUs = node.user + node.system;
    redisUs = (await redisCpuUs(client)) - redisBefore;
  } finally {
    await workers.stop();
  }
  if (failure) throw failure;
  const metric = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
    (await c.get()).values[0]?.value ?? 0;
  const late = await metric(workers.metrics.lateEvents);
  const dead = await metric(workers.metrics.deadLetters);
  const info = await new StreamAdmin(client, {
    name: family.name,
    group,
    partitions: PARTITIONS,
  }).groupInfo();
  const backlog = info.reduce((sum, p) => sum + (p.lag ?? 0) + p.pending, 0);
  const users = await usersIn(client, family.name);
  if (late !== 0 || dead !== 0 || backlog !== 0 || users !== family.distinct) {
    throw new Error(
      `pipeline run on ${family.name} is wrong: late=${late} dead=${dead} backlog=${backlog} ` +
        `users=${users} (expected ${family.distinct})`,
    );
  }
  await destroyGroup(client, family.name, group);
  await resetState(client, family.name);
  const rate = family.count / seconds;
  const run = { rate, redisUs: redisUs / family.count, nodeUs: nodeUs / family.count };
  context.log(
    `pipeline: ${family.sequence.label} [${family.windows.join(',')}] ${family.count} events in ` +
      `${seconds.toFixed(2)} s = ${Math.round(rate)}/s; CPU per event: redis ${run.redisUs.toFixed(2)} µs, ` +
      `node ${run.nodeUs.toFixed(2)} µs`,
  );
  return run;
}

/**
 * The family drained by `leaderboard work --processes N` (the built CLI, as an operator runs it):
 * N worker processes sharing the partitions, under a fresh group (the CLI's) and empty state.
 * Their start (module loading, the embedded store) is not timed: events/s from the first
 * observation of applied entries to the last one applied, the backlog polled every 20 ms.
 */
async function measureWorkProcesses(
  context: BenchContext,
  bench: Bench,
  family: Family,
  processes: number,
): Promise<number> {
  const { client } = bench;
  await resetState(client, family.name);
  await putBoard(client, family.name, family.windows);
  await waitForLazyFree(client);
  const work = await startWork(context, family.name, processes);
  const admin = new StreamAdmin(client, { name: family.name, group: DEFAULTS.group, partitions: PARTITIONS });
  const remaining = async () => {
    try {
      return (await admin.groupInfo()).reduce((sum, p) => sum + (p.lag ?? p.length) + p.pending, 0);
    } catch {
      return family.count; // the group is not there yet
    }
  };
  let first: { at: bigint; remaining: number } | undefined;
  let seconds = 0;
  try {
    const deadline = Date.now() + STALL_MS;
    for (;;) {
      const left = await remaining();
      const at = process.hrtime.bigint();
      if (!first && left < family.count) first = { at, remaining: left };
      if (first && left === 0) {
        seconds = Number(at - first.at) / 1e9;
        break;
      }
      if (work.exited()) throw new Error(`work --processes ${processes} exited early`);
      if (Date.now() > deadline) throw new Error(`work --processes ${processes} stalled with ${left} left`);
      await sleep(20);
    }
  } finally {
    await work.stop();
  }
  const users = await usersIn(client, family.name);
  if (users !== family.distinct) {
    throw new Error(
      `work --processes ${processes} on ${family.name} wrote ${users} users, expected ${family.distinct}`,
    );
  }
  await destroyGroup(client, family.name, DEFAULTS.group);
  await resetState(client, family.name);
  const rate = first!.remaining / seconds;
  context.log(
    `pipeline: ${family.sequence.label} through work --processes ${processes}: ${first!.remaining} events in ` +
      `${seconds.toFixed(2)} s = ${Math.round(rate)}/s`,
  );
  return rate;
}

/** Users with a score in the family's `all` window, over the partitions. */
async function usersIn(redis: Redis, name: string): Promise<number> {
  const cards = await Promise.all(
    Array.from({ length: PARTITIONS }, (_, p) => redis.zcard(stateKeys(name, p).scores(BOARD, 'all:0'))),
  );
  return cards.reduce((a, b) => a + b, 0);
}

/** `leaderboard work --processes N` from the build, on a family, until `stop()` (SIGTERM). */
async function startWork(context: BenchContext, name: string, processes: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'lb-bench-work-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: context.redisUrl,
    KEY_PREFIX: name,
    PARTITIONS: String(PARTITIONS),
    REFRESH_MS: String(REFRESH_MS),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  for (const variable of ['REDIS_CLUSTER', 'REDIS_SENTINELS', 'DATABASE_URL']) delete env[variable];
  const cli = fileURLToPath(new URL('../../server/cli.js', import.meta.url));
  // BENCH_WORK_NODE_ARGS: node options for the worker processes, e.g. `--cpu-prof` to profile them.
  const nodeArgs = (process.env.BENCH_WORK_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, cli, 'work', '--processes', String(processes)], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A KEY_PREFIX the CLI takes (letters, digits, '_' and '-', at most 32). */
function keyPrefix(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_').slice(-32);
}

// ---------------------------------------------------------------------------------------------
// Freshness

interface ProducerData {
  role: 'pipeline-fresh-producer';
  redisUrl: string;
  name: string;
  rate: number;
  seconds: number;
  markerEveryMs: number;
}

/** The reader: what a live (SSE) client's edge does, in a thread of its own. */
interface ReaderData {
  role: 'pipeline-fresh-reader';
  redisUrl: string;
  name: string;
}

interface MarkerMessage {
  type: 'marker';
  userId: string;
  acceptedAt: number;
  sentAt: number;
}

interface DoneMessage {
  type: 'done';
  sent: number;
  seconds: number;
}

interface DeliveredMessage {
  type: 'delivered';
  userIds: string[];
  at: number;
}

interface Freshness {
  p50: number;
  p99: number;
  max: number;
  offered: number;
  achieved: number;
}

/**
 * One point of the curve: workers on an empty family, the producer thread appending at `rate`,
 * the reader thread told of each new snapshot as an edge is (`SnapshotFeed`: the sharded channel
 * the workers publish each version on) and reading it as the live route does. A marker's
 * freshness runs from its XADD (what the 202 waits for) to the reader holding a top that lists
 * it: what a live client is sent then.
 */
async function freshness(
  context: BenchContext,
  bench: Bench,
  rate: number,
  seconds: number,
): Promise<Freshness> {
  const { client } = bench;
  const name = keyPrefix(context.uniquePrefix('pl-fresh'));
  await putBoard(client, name, ['all']);
  await waitForLazyFree(client);
  const delivered = new Map<string, number>();
  const markers: MarkerMessage[] = [];
  let done: DoneMessage | undefined;
  let gaveUpAt = 0;
  let applied = 0;
  const reader = new Worker(new URL(import.meta.url), {
    workerData: { role: 'pipeline-fresh-reader', redisUrl: context.redisUrl, name } satisfies ReaderData,
  });
  reader.on('message', (message: DeliveredMessage | { type: 'ready' }) => {
    if (message.type !== 'delivered') return;
    for (const userId of message.userIds) if (!delivered.has(userId)) delivered.set(userId, message.at);
  });
  await new Promise<void>((resolve, reject) => {
    reader.once('message', () => resolve());
    reader.once('error', reject);
  });
  const work = await startWork(context, name, 1);
  const admin = new StreamAdmin(client, { name, group: DEFAULTS.group, partitions: PARTITIONS });
  try {
    const leases = Array.from({ length: PARTITIONS }, (_, p) => partitionKeys(name, p).lease);
    const deadline = Date.now() + 30_000;
    while ((await client.exists(...leases)) < PARTITIONS) {
      if (work.exited()) throw new Error('the worker process exited');
      if (Date.now() > deadline) throw new Error('the worker process did not take all partitions');
      await sleep(20);
    }
    const data: ProducerData = {
      role: 'pipeline-fresh-producer',
      redisUrl: context.redisUrl,
      name,
      rate,
      seconds,
      markerEveryMs: 10,
    };
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: MarkerMessage | DoneMessage) => {
        if (message.type === 'marker') markers.push(message);
        else done = message;
      });
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`producer exited ${code}`))));
    });
    applied = (await admin.groupInfo()).reduce((sum, p) => sum + p.length - (p.lag ?? 0) - p.pending, 0);
    // Let the last markers through.
    const tail = Date.now() + 2000;
    while (Date.now() < tail && markers.some((m) => !delivered.has(m.userId))) await sleep(10);
    gaveUpAt = Date.now();
    if (work.exited()) throw new Error('the worker process exited');
  } finally {
    await work.stop();
    await reader.terminate();
    await deleteFamily(client, name, [DEFAULTS.group]);
  }
  if (!done) throw new Error('the freshness producer did not report');
  const measured = markers.filter((m) => m.sentAt >= markers[0]!.sentAt + 1000);
  // A marker can miss every snapshot: pushed out of the top 100 by 100 newer markers (1 s of them)
  // before a merge showed it, or still unapplied 2 s after the producer stopped. It counts with
  // the time it was given up on, a lower bound of a freshness it never reached.
  const missing = measured.filter((m) => !delivered.has(m.userId)).length;
  const latencies = measured
    .map((m) => (delivered.get(m.userId) ?? gaveUpAt) - m.acceptedAt)
    .sort((a, b) => a - b);
  const quantile = (list: number[], q: number) =>
    list[Math.min(list.length - 1, Math.ceil(q * list.length) - 1)] ?? 0;
  const offered = done.sent / done.seconds;
  // What the workers applied while the producer ran (its markers included), per second.
  const achieved = Math.max(0, applied - markers.length) / done.seconds;
  context.log(
    `pipeline: freshness at ${Math.round(offered)} events/s offered (${Math.round(rate)} asked, ` +
      `${Math.round(achieved)} applied meanwhile): ${latencies.length} markers delivered p50=${quantile(latencies, 0.5)} ms ` +
      `p99=${quantile(latencies, 0.99)} ms max=${latencies[latencies.length - 1]} ms` +
      (missing > 0 ? ` (${missing} never delivered, counted as given up at ${gaveUpAt} ms)` : ''),
  );
  // A 0 ms freshness would be rejected as no value; 0.5 ms says "under the clock's resolution".
  const atLeast = (ms: number) => Math.max(0.5, ms);
  return {
    p50: atLeast(quantile(latencies, 0.5)),
    p99: atLeast(quantile(latencies, 0.99)),
    max: atLeast(latencies[latencies.length - 1] ?? 0),
    offered,
    achieved,
  };
}

/**
 * The reader thread: subscribed to the board's snapshot announcements, it reads each new version
 * (as the live route's snapshot cache does) and reports the markers it lists first.
 */
async function readerMain(data: ReaderData): Promise<void> {
  const redis = new Redis(data.redisUrl);
  const boards = new BoardRegistry(redis, data.name);
  await boards.load();
  const queries = new LeaderboardQueries(redis, boards, { name: data.name, partitions: PARTITIONS });
  const feed = new SnapshotFeed(redis, data.name);
  const seen = new Set<string>();
  let newest = 0;
  feed.watch(BOARD, (windowKey, version) => {
    if (version <= newest) return;
    newest = version;
    void queries.snapshot(BOARD, windowKey).then((snapshot) => {
      const at = Date.now();
      const userIds = (snapshot?.entries ?? [])
        .map((e) => e.userId)
        .filter((id) => id.charCodeAt(0) === 109 /* m */ && !seen.has(id));
      for (const id of userIds) seen.add(id);
      if (userIds.length > 0)
        parentPort!.postMessage({ type: 'delivered', userIds, at } satisfies DeliveredMessage);
    });
  });
  parentPort!.postMessage({ type: 'ready' });
}

/** The paced producer, in a worker thread so its work does not sit on the workers' event loop. */
async function producerMain(data: ProducerData): Promise<void> {
  ensureUserTables();
  const redis = new Redis(data.redisUrl);
  const producer = new Producer(redis, { name: data.name, partitions: PARTITIONS });
  const next = random(7);
  const tickMs = 5;
  let sent = 0;
  let markers = 0;
  const started = Date.now();
  const end = started + data.seconds * 1000;
  let nextTick = started;
  while (Date.now() < end) {
    const now = Date.now();
    const due = Math.floor(((now - started) / 1000) * data.rate) - sent;
    const records: { key: string; fields: string[] }[] = [];
    const markerIndexes: [number, string][] = [];
    while (markers * data.markerEveryMs <= now - started) {
      const userId = `m${markers}`;
      markerIndexes.push([records.length, userId]);
      records.push({
        key: userId,
        fields: scoreEventCodec.encode({ board: BOARD, userId, value: 1e9 + markers, ts: now }),
      });
      markers++;
    }
    for (let i = 0; i < due; i++) {
      const userId = userIds[Math.floor(next() * USERS)]!;
      records.push({
        key: userId,
        fields: scoreEventCodec.encode({
          board: BOARD,
          userId,
          value: 1 + Math.floor(next() * 100),
          ts: now,
        }),
      });
    }
    if (records.length > 0) {
      const ids = await producer.append(records);
      sent += records.length - markerIndexes.length;
      for (const [index, userId] of markerIndexes) {
        const id = ids[index]!;
        const message: MarkerMessage = {
          type: 'marker',
          userId,
          acceptedAt: Number(id.slice(0, id.indexOf('-'))),
          sentAt: now,
        };
        parentPort!.postMessage(message);
      }
    }
    nextTick += tickMs;
    const wait = nextTick - Date.now();
    if (wait > 0) await sleep(wait);
    else nextTick = Date.now();
  }
  const message: DoneMessage = { type: 'done', sent, seconds: (Date.now() - started) / 1000 };
  parentPort!.postMessage(message);
  await redis.quit();
}

if (!isMainThread && (workerData as ProducerData | undefined)?.role === 'pipeline-fresh-producer') {
  await producerMain(workerData as ProducerData);
}
if (!isMainThread && (workerData as ReaderData | undefined)?.role === 'pipeline-fresh-reader') {
  await readerMain(workerData as ReaderData);
}

// ---------------------------------------------------------------------------------------------
// Baselines

function baselineKeys(name: string): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => stateKeys(name, p).scores(BOARD, 'all:0'));
}

/** (a) redis-rank, one `updateOne` per event, 64 callers, for `seconds` from the sequence's start. */
async function baselineRedisRank(
  context: BenchContext,
  redis: Redis,
  family: Family,
  seconds: number,
): Promise<number> {
  const name = context.uniquePrefix('rr');
  const keys = baselineKeys(name);
  const boards = keys.map(
    (key) => new Leaderboard(redis, key, { sortPolicy: 'high-to-low', updatePolicy: 'aggregate' }),
  );
  const { users, values } = family.sequence;
  const count = family.count;
  let nextIndex = 0;
  await waitForLazyFree(redis);
  const started = process.hrtime.bigint();
  const stopAt = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (nextIndex < count && Date.now() < stopAt) {
        const i = nextIndex++;
        const u = users[i]!;
        await boards[partitionOfUser[u]!]!.updateOne(userIds[u]!, values[i]!);
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await redis.unlink(...keys);
  return nextIndex / elapsed;
}

/** (b) ZINCRBY in pipelines of 1000, in sequence order, `IN_FLIGHT` pipelines at a time. */
async function baselineZincrby(context: BenchContext, redis: Redis, family: Family): Promise<number> {
  const name = context.uniquePrefix('zi');
  const keys = baselineKeys(name);
  const { users, values } = family.sequence;
  const count = family.count;
  await waitForLazyFree(redis);
  const started = process.hrtime.bigint();
  const inFlight = new Set<Promise<unknown>>();
  for (let start = 0; start < count; start += BATCH) {
    const pipe = redis.pipeline();
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const u = users[i]!;
      pipe.zincrby(keys[partitionOfUser[u]!]!, values[i]!, userIds[u]!);
    }
    const exec = pipe.exec().then(failOnError);
    const tracked = exec.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await expectUsers(redis, keys, family.distinct);
  await redis.unlink(...keys);
  return count / elapsed;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    benchZincrbyBatch(key: string, ...args: (string | number)[]): Result<number, Context>;
  }
}

function defineLuaBaseline(redis: Redis): void {
  redis.defineCommand('benchZincrbyBatch', {
    numberOfKeys: 1,
    lua: `local key = KEYS[1]
for i = 1, #ARGV, 2 do
  redis.call('ZINCRBY', key, ARGV[i], ARGV[i + 1])
end
return #ARGV / 2`,
  });
}

/**
 * (c) One Lua call per 1000 events of a partition (events grouped by partition in sequence
 * order, as the pipeline's batches are), `IN_FLIGHT` calls at a time.
 */
async function baselineLua(context: BenchContext, redis: Redis, family: Family): Promise<number> {
  const name = context.uniquePrefix('lua');
  const keys = baselineKeys(name);
  const { users, values } = family.sequence;
  const count = family.count;
  await waitForLazyFree(redis);
  const started = process.hrtime.bigint();
  const buffers: (string | number)[][] = Array.from({ length: PARTITIONS }, () => []);
  const inFlight = new Set<Promise<unknown>>();
  const send = async (p: number) => {
    const args = buffers[p]!;
    buffers[p] = [];
    const call = redis.benchZincrbyBatch(keys[p]!, ...args);
    const tracked = call.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  for (let i = 0; i < count; i++) {
    const u = users[i]!;
    const p = partitionOfUser[u]!;
    const buffer = buffers[p]!;
    buffer.push(values[i]!, userIds[u]!);
    if (buffer.length >= 2 * BATCH) await send(p);
  }
  for (let p = 0; p < PARTITIONS; p++) if (buffers[p]!.length > 0) await send(p);
  await Promise.all(inFlight);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await expectUsers(redis, keys, family.distinct);
  await redis.unlink(...keys);
  return count / elapsed;
}

async function expectUsers(redis: Redis, keys: string[], expected: number): Promise<void> {
  const cards = await Promise.all(keys.map((k) => redis.zcard(k)));
  const users = cards.reduce((a, b) => a + b, 0);
  if (users !== expected) throw new Error(`baseline wrote ${users} users, expected ${expected}`);
}

// ---------------------------------------------------------------------------------------------
// Redis housekeeping

/** Every key of a family's state but its streams and boards: scores, checkpoints, leases... */
async function resetState(redis: Redis, name: string): Promise<void> {
  const keys: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const k = partitionKeys(name, p);
    const state = stateKeys(name, p);
    keys.push(k.lease, k.epoch, k.dlq, k.checkpoint, state.late, state.closing);
  }
  for (const pattern of [
    `{${name}:*}:z:*`,
    `{${name}:*}:t:*`,
    `{${name}:*}:dd:*`,
    `${snapshotKeyPrefix(name, BOARD)}*`,
  ]) {
    keys.push(...(await scanKeys(redis, pattern)));
  }
  await redis.unlink(...keys);
}

async function destroyGroup(redis: Redis, name: string, group: string): Promise<void> {
  await Promise.all(
    Array.from({ length: PARTITIONS }, (_, p) =>
      redis.xgroup('DESTROY', partitionKeys(name, p).stream, group).catch(() => 0),
    ),
  );
  await redis.unlink(membersKey(name, group));
}

/** Streams, state and consumer-group members of a family. */
async function deleteFamily(redis: Redis, name: string, groups: string[]): Promise<void> {
  await resetState(redis, name);
  const keys = Array.from({ length: PARTITIONS }, (_, p) => partitionKeys(name, p).stream);
  keys.push(`${name}:boards`, ...groups.map((g) => membersKey(name, g)));
  await redis.unlink(...keys);
  await waitForLazyFree(redis);
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

/** UNLINK frees big values in a background thread: wait until it is done before timing. */
async function waitForLazyFree(redis: Redis): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const info = await redis.info('memory');
    const pending = Number(/lazyfree_pending_objects:(\d+)/.exec(info)?.[1] ?? 0);
    if (pending === 0) return;
    await sleep(20);
  }
}

function failOnError(results: [Error | null, unknown][] | null): unknown[] {
  return (results ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * One freshness point on its own, for ad-hoc runs (`npx tsx -e` or a scratch script): the same
 * measurement as the curve's, at `rate` events/s for `seconds`.
 *
 * @example
 * console.log(await measureFreshness('redis://127.0.0.1:6390', 50_000, 6));
 */
export async function measureFreshness(redisUrl: string, rate: number, seconds: number): Promise<Freshness> {
  ensureUserTables();
  const client = new Redis(redisUrl);
  let sequence = 0;
  const context: BenchContext = {
    redisUrl,
    redis: client,
    quick: false,
    uniquePrefix: (label) => `adhoc:${process.pid}:${label}${sequence++}`,
    log: (message) => process.stderr.write(`${message}\n`),
  };
  const bench: Bench = {
    client,
    workerClient: client, // the freshness point runs its worker in a process of its own
    baselineClient: client,
    families: [],
    freshSeconds: seconds,
    redisRankSeconds: 0,
    calibratedRate: rate,
  };
  try {
    return await freshness(context, bench, rate, seconds);
  } finally {
    client.disconnect();
  }
}
