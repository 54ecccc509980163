/**
 * Runs a pipeline against a real redis-server for a test, as Kafka Streams' `TopologyTestDriver`
 * does for a topology: pipe records in, advance event time by hand, let the pipeline process
 * everything, then read its outputs (snapshots, late records, dead letters, closed windows' final
 * tops) and its state (the store's queries). The pipeline runs exactly as in production (the
 * consumer group, the leases, the stages, the apply script, the merges), on keys of its own.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type DeadLetter, StreamAdmin } from 'redis-streams-consumer-groups';
import { type ArchivedTop, archiveDue, type ClosedTop } from '../operators/archiveSink.js';
import { WATERMARK_FIELD } from '../operators/codec.js';
import { stateKeys } from '../operators/stateKeys.js';
import type { LateRecord, RankedEntry, Snapshot } from '../operators/types.js';
import { PipelineProducer } from './producer.js';
import { type RunningPipeline, runPipeline } from './runner.js';
import { scanKeys } from './scanKeys.js';
import { TopKStore } from './store.js';
import type { Topology } from './topology.js';

export interface TestDriverOptions {
  /** A connection to the test's redis-server. */
  redis: Redis;
  /** Default 2. */
  partitions?: number;
  /** The stream family's name. Default: a fresh random one, so tests never see each other's keys. */
  name?: string;
}

/**
 * @example
 * const driver = await TopologyTestDriver.start(trending, { redis });
 * await driver.pipe({ productId: 'p1', category: 'books', price: 10, qty: 2, at: T });
 * await driver.process();
 * expect(await driver.top('books', 'PT1H+PT10M', T)).toEqual([{ rank: 1, member: 'p1', score: 20 }]);
 * await driver.close();
 */
export class TopologyTestDriver<T> {
  /** The snapshots stored so far. */
  readonly snapshots: Snapshot[] = [];
  /** The (record, window) pairs set aside as late so far. */
  readonly late: LateRecord[] = [];
  readonly store: TopKStore<T>;
  /** Errors the pipeline reported (retried writes, failed merges). */
  readonly errors: unknown[] = [];
  private busy = false;

  private constructor(
    readonly topology: Topology<T>,
    private readonly redis: Redis,
    readonly name: string,
    readonly partitions: number,
    private readonly producer: PipelineProducer<T>,
    private running: RunningPipeline | undefined,
  ) {
    this.store = new TopKStore(topology, { redis, partitions, name });
  }

  static async start<T>(topology: Topology<T>, options: TestDriverOptions): Promise<TopologyTestDriver<T>> {
    const partitions = options.partitions ?? 2;
    const name = options.name ?? `${topology.definition.stream}-${randomBytes(4).toString('hex')}`;
    const producer = new PipelineProducer(topology, options.redis, { partitions, name });
    const driver = new TopologyTestDriver(topology, options.redis, name, partitions, producer, undefined);
    driver.running = await runPipeline(topology, {
      redis: options.redis,
      name,
      partitions,
      refreshMs: 5,
      consumer: { blockMs: 5, leaseMs: 5000 },
      onBusy: (busy) => {
        driver.busy = busy;
      },
      onError: (error) => driver.errors.push(error),
    });
    driver.running.snapshots.subscribe((s) => driver.snapshots.push(s));
    driver.running.late.subscribe((l) => driver.late.push(l));
    return driver;
  }

  /** Appends records to the pipeline's streams (each to its key's partition, in order). */
  async pipe(...values: T[]): Promise<void> {
    await this.producer.append(values);
  }

  /** Appends an entry with the given fields to a partition (e.g. one no codec accepts). */
  async pipeRaw(partition: number, fields: string[]): Promise<string> {
    return (await this.redis.xadd(stateKeys(this.name, partition).stream, '*', ...fields))!;
  }

  /** Moves every partition's stream time to `ts` (a watermark entry each), so windows close. */
  async advanceStreamTime(ts: number): Promise<void> {
    for (let p = 0; p < this.partitions; p++) await this.pipeRaw(p, [WATERMARK_FIELD, String(ts)]);
  }

  /** Resolves once every entry appended so far is applied and every top it marked is merged. */
  async process(timeoutMs = 20_000): Promise<void> {
    const admin = new StreamAdmin(this.redis, {
      name: this.name,
      group: 'workers',
      partitions: this.partitions,
    });
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    while (quiet < 2) {
      if (Date.now() > deadline) {
        const last = this.errors[this.errors.length - 1];
        throw new Error(
          `the pipeline did not settle within ${timeoutMs} ms${last ? `; last error: ${String(last)}` : ''}`,
        );
      }
      await sleep(10);
      const info = await admin.groupInfo();
      const drained = info.every((p) => p.pending === 0 && (p.lag ?? 1) === 0);
      quiet = drained && !this.busy ? quiet + 1 : 0;
    }
  }

  /** The top-K of a group's window at time `at` (default now), from its snapshot. */
  async top(group: string, window: string, at = Date.now()): Promise<RankedEntry[]> {
    const instance = this.store.windowAt(group, window, at);
    if (!instance) throw new Error(`the pipeline keeps no window '${window}' for group '${group}'`);
    return (await this.store.snapshot(group, instance.key))?.entries ?? [];
  }

  /** The dead letters of every partition. */
  async deadLetters(): Promise<DeadLetter[]> {
    return new StreamAdmin(this.redis, {
      name: this.name,
      group: 'workers',
      partitions: this.partitions,
    }).allDeadLetters();
  }

  /** The window instances closed at wall-clock time `now`, with their final tops (what an archive sink would store). */
  async closeWindows(now: number): Promise<ClosedTop[]> {
    const closed: ArchivedTop[] = [];
    await archiveDue(
      {
        redis: this.redis,
        name: this.name,
        partitions: this.partitions,
        groups: this.topology.definition.spec,
        store: { archive: async () => true },
        now: () => now,
      },
      (top) => closed.push(top),
    );
    return closed.map(({ alreadyArchived: _, ...top }) => top);
  }

  /** Stops the pipeline and removes its keys. */
  async close(): Promise<void> {
    await this.running?.stop();
    const keys = await scanKeys(this.redis, `*${this.name}*`);
    for (let i = 0; i < keys.length; i += 500) await this.redis.unlink(...keys.slice(i, i + 500));
  }
}
