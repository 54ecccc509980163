/**
 * Throughput of `redis-streams-consumer-groups`: entries appended with `Producer.append`, then
 * read and acknowledged by one `Consumer` owning all 16 partitions, against the same work done
 * with raw ioredis pipelines from the same process on the same Redis (the baselines).
 *
 * One repetition:
 * 1. produce: the same records, once with `Producer.append` (batches of 1000 records over 16
 *    partitions) into family P, once with raw `XADD` (pipelines of 1000) into family R;
 * 2. consume family P twice, in two groups: the package's `Consumer` (for-await, `ack` per batch)
 *    and raw `XREADGROUP COUNT 1000` on the 16 streams, each round's `XACK`s pipelined with the
 *    next round's reads. Both read the very same entries;
 * 3. delete both families.
 * The order of the package and raw halves alternates between repetitions, so neither always runs
 * on a warmer (or more fragmented) Redis. `BENCH_CG_ENTRIES` overrides the number of entries
 * (default 400,000, about 3 s per produce phase on 2 shared cores; 20,000 with `BENCH_QUICK`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  Consumer,
  ensureGroup,
  membersKey,
  Producer,
  type ProducerRecord,
  partitionFor,
  partitionKeys,
} from 'redis-streams-consumer-groups';
import {
  type BenchContext,
  type BenchmarkGroup,
  elapsedSeconds,
  type Repetition,
} from '../harness/benchmark.js';

const PARTITIONS = 16;
/** Records per `Producer.append` call, and XADDs per raw pipeline. */
const APPEND_BATCH = 1000;
/** The consumer's `batchSize` and the raw `XREADGROUP COUNT`. */
const READ_COUNT = 1000;
/** Distinct partitioning keys (user ids). */
const USERS = 10_000;
const PACKAGE_GROUP = 'bench';
const RAW_GROUP = 'raw';
/** A consume phase that takes longer than this has stalled: fail instead of hanging. */
const STALL_MS = 120_000;

type RawStreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

export const consumerGroups: BenchmarkGroup = {
  name: 'consumerGroups',
  description: 'Producer.append and Consumer (for-await + ack) vs raw pipelined XADD and XREADGROUP + XACK',
  figures: [
    { path: 'consumerGroups.produceEntriesPerSec', unit: 'entries/s', baseline: 'baselines.rawXaddPerSec' },
    {
      path: 'consumerGroups.consumeEntriesPerSec',
      unit: 'entries/s',
      baseline: 'baselines.rawXreadgroupAckPerSec',
    },
    {
      path: 'consumerGroups.endToEndEntriesPerSec',
      unit: 'entries/s',
      baseline: 'baselines.rawEndToEndPerSec',
    },
    { path: 'baselines.rawXaddPerSec', unit: 'entries/s' },
    { path: 'baselines.rawXreadgroupAckPerSec', unit: 'entries/s' },
    { path: 'baselines.rawEndToEndPerSec', unit: 'entries/s' },
  ],
  prepare(context) {
    const entries = Number(process.env.BENCH_CG_ENTRIES ?? (context.quick ? 20_000 : 400_000));
    if (!Number.isInteger(entries) || entries < APPEND_BATCH) {
      throw new Error(`BENCH_CG_ENTRIES must be an integer of at least ${APPEND_BATCH}, got ${entries}`);
    }
    const batches = makeBatches(entries);
    const producerClient = new Redis(context.redisUrl);
    const rawClient = new Redis(context.redisUrl);
    const consumerClient = new Redis(context.redisUrl);
    return {
      parameters: {
        entries,
        partitions: PARTITIONS,
        appendBatch: APPEND_BATCH,
        consumerBatchSize: READ_COUNT,
        rawPipeline: APPEND_BATCH,
        rawReadCount: READ_COUNT,
        fields: 'b u v t',
      },
      run: (repetition) =>
        runRepetition(context, repetition, {
          batches: repetition.warmup ? batches.slice(0, Math.ceil(batches.length / 10)) : batches,
          producerClient,
          rawClient,
          consumerClient,
        }),
      async dispose() {
        await Promise.all([producerClient.quit(), rawClient.quit(), consumerClient.quit()]);
      },
    };
  },
};

interface RepetitionSetup {
  batches: ProducerRecord[][];
  producerClient: Redis;
  rawClient: Redis;
  consumerClient: Redis;
}

async function runRepetition(context: BenchContext, repetition: Repetition, setup: RepetitionSetup) {
  const { batches, producerClient, rawClient, consumerClient } = setup;
  const total = batches.reduce((sum, b) => sum + b.length, 0);
  const packageName = context.uniquePrefix('cg');
  const rawName = context.uniquePrefix('raw');
  const packageFirst = repetition.index % 2 === 1;
  const seconds = { produce: 0, rawXadd: 0, consume: 0, rawRead: 0 };
  try {
    await inOrder(
      packageFirst,
      async () => {
        seconds.produce = await produceWithPackage(producerClient, packageName, batches);
      },
      async () => {
        seconds.rawXadd = await produceRaw(rawClient, rawName, batches);
      },
    );
    await deleteFamily(context.redis, rawName, []);

    await Promise.all(
      streamsOf(packageName).map((stream) => ensureGroup(context.redis, stream, RAW_GROUP, '0')),
    );
    await inOrder(
      packageFirst,
      async () => {
        seconds.consume = await consumeWithPackage(consumerClient, packageName, total);
      },
      async () => {
        seconds.rawRead = await consumeRaw(rawClient, packageName, total);
      },
    );
    await expectNothingPending(context.redis, packageName, [PACKAGE_GROUP, RAW_GROUP]);
  } finally {
    await deleteFamily(context.redis, rawName, []);
    await deleteFamily(context.redis, packageName, [PACKAGE_GROUP, RAW_GROUP]);
  }
  return {
    'consumerGroups.produceEntriesPerSec': total / seconds.produce,
    'consumerGroups.consumeEntriesPerSec': total / seconds.consume,
    'consumerGroups.endToEndEntriesPerSec': total / (seconds.produce + seconds.consume),
    'baselines.rawXaddPerSec': total / seconds.rawXadd,
    'baselines.rawXreadgroupAckPerSec': total / seconds.rawRead,
    'baselines.rawEndToEndPerSec': total / (seconds.rawXadd + seconds.rawRead),
  };
}

/** Score-event-like records (`t b u v`, as the leaderboard writes them), cut into append batches. */
function makeBatches(entries: number): ProducerRecord[][] {
  const now = Date.now();
  const batches: ProducerRecord[][] = [];
  for (let start = 0; start < entries; start += APPEND_BATCH) {
    const batch: ProducerRecord[] = [];
    for (let i = start; i < Math.min(entries, start + APPEND_BATCH); i++) {
      const user = `user-${(i * 7919) % USERS}`;
      batch.push({
        key: user,
        fields: ['b', 'global', 'u', user, 'v', String(i % 1000), 't', String(now + i)],
      });
    }
    batches.push(batch);
  }
  return batches;
}

async function produceWithPackage(redis: Redis, name: string, batches: ProducerRecord[][]): Promise<number> {
  const producer = new Producer(redis, { name, partitions: PARTITIONS });
  return elapsedSeconds(async () => {
    for (const batch of batches) await producer.append(batch);
  });
}

/** The same records with plain `XADD key * ...` (no trimming), one pipeline of 1000 per batch. */
async function produceRaw(redis: Redis, name: string, batches: ProducerRecord[][]): Promise<number> {
  const streams = streamsOf(name);
  return elapsedSeconds(async () => {
    for (const batch of batches) {
      const pipeline = redis.pipeline();
      for (const record of batch) {
        pipeline.xadd(streams[partitionFor(record.key!, PARTITIONS)]!, '*', ...(record.fields as string[]));
      }
      failOnError(await pipeline.exec());
    }
  });
}

/**
 * One consumer owning the 16 partitions, reading and acknowledging every entry. Timed from
 * `start()` to the last ack; the shutdown after it (up to `blockMs`) is not counted.
 */
async function consumeWithPackage(redis: Redis, name: string, total: number): Promise<number> {
  const consumer = new Consumer(redis, {
    name,
    group: PACKAGE_GROUP,
    partitions: PARTITIONS,
    consumerId: 'bench',
    batchSize: READ_COUNT,
  });
  let failure: Error | undefined;
  consumer.on('error', (error) => {
    failure ??= error;
    void consumer.close();
  });
  const watchdog = setTimeout(() => {
    failure ??= new Error(`the consumer stalled: nothing left to read after ${STALL_MS} ms`);
    void consumer.close();
  }, STALL_MS);
  let acked = 0;
  let seconds = 0;
  const started = process.hrtime.bigint();
  try {
    await consumer.start();
    for await (const batch of consumer) {
      acked += await consumer.ack(batch);
      if (acked >= total) {
        seconds = Number(process.hrtime.bigint() - started) / 1e9;
        break;
      }
    }
  } finally {
    clearTimeout(watchdog);
    await consumer.close();
  }
  if (failure) throw failure;
  if (acked !== total) throw new Error(`the consumer acknowledged ${acked} entries of ${total}`);
  return seconds;
}

/**
 * Raw `XREADGROUP COUNT 1000` on each of the 16 streams in one pipeline, two pipelines in flight
 * (the next round's reads go out before this round's reply is handled, as the package's
 * read-ahead does). A round's `XACK`s travel in the pipeline sent right after its reply came.
 */
async function consumeRaw(redis: Redis, name: string, total: number): Promise<number> {
  const streams = streamsOf(name);
  let read = 0;
  let acked = 0;
  const send = async (acks: [stream: string, ids: string[]][], withReads: boolean) => {
    const pipeline = redis.pipeline();
    for (const [stream, ids] of acks) pipeline.xack(stream, RAW_GROUP, ...ids);
    if (withReads) {
      for (const stream of streams) {
        pipeline.xreadgroup('GROUP', RAW_GROUP, 'raw', 'COUNT', READ_COUNT, 'STREAMS', stream, '>');
      }
    }
    const replies = failOnError(await pipeline.exec());
    return {
      acked: replies.slice(0, acks.length) as number[],
      reads: replies.slice(acks.length) as RawStreamReply[],
    };
  };
  const seconds = await elapsedSeconds(async () => {
    const inFlight = [send([], true), send([], true)];
    let emptyReads = 0;
    while (inFlight.length > 0) {
      const reply = await inFlight.shift()!;
      for (const n of reply.acked) acked += n;
      const toAck: [string, string[]][] = [];
      reply.reads.forEach((streamReply, p) => {
        const entries = streamReply?.[0]?.[1];
        if (entries && entries.length > 0) toAck.push([streams[p]!, entries.map(([id]) => id)]);
      });
      for (const [, ids] of toAck) read += ids.length;
      if (reply.reads.length > 0 && toAck.length === 0) emptyReads++;
      const moreToRead = read < total && emptyReads < 3;
      if (toAck.length > 0 || moreToRead) inFlight.push(send(toAck, moreToRead));
    }
  });
  if (acked !== total) throw new Error(`the raw consumer acknowledged ${acked} entries of ${total}`);
  return seconds;
}

async function inOrder(packageFirst: boolean, pkg: () => Promise<void>, raw: () => Promise<void>) {
  if (packageFirst) {
    await pkg();
    await raw();
  } else {
    await raw();
    await pkg();
  }
}

function streamsOf(name: string): string[] {
  return Array.from({ length: PARTITIONS }, (_, p) => partitionKeys(name, p).stream);
}

async function expectNothingPending(redis: Redis, name: string, groups: string[]): Promise<void> {
  for (const group of groups) {
    const summaries = await Promise.all(streamsOf(name).map((s) => redis.xpending(s, group)));
    const pending = summaries.reduce<number>((sum, s) => sum + Number((s as unknown[])[0]), 0);
    if (pending !== 0) throw new Error(`group ${group} still has ${pending} pending entries`);
  }
}

/** Every key of a family: the partitions' streams, leases, epochs, dead letters, checkpoints. */
async function deleteFamily(redis: Redis, name: string, groups: string[]): Promise<void> {
  const keys = Array.from({ length: PARTITIONS }, (_, p) => Object.values(partitionKeys(name, p))).flat();
  keys.push(...groups.map((g) => membersKey(name, g)));
  await redis.unlink(...keys);
  // UNLINK frees big streams in a background thread; let it finish before the next timing.
  await sleep(50);
}

function failOnError(results: [Error | null, unknown][] | null): unknown[] {
  return (results ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
