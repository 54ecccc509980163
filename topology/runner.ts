/**
 * Runs the leaderboard topology in this process: one consumer that takes a fair share of the
 * partitions by leases (more processes share them), the pipeline over its batches, metrics, and
 * a graceful stop.
 */
import type { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Consumer, type ConsumerOptions } from 'redis-streams-consumer-groups';
import type { Subscription } from 'rxjs';
import { CheckpointTracker } from '../operators/checkpoints.js';
import { fromConsumer } from '../operators/source.js';
import type { Snapshot } from '../operators/topK.js';
import type { BoardRegistry } from './boards.js';
import { DEFAULTS } from './defaults.js';
import { leaderboardTopology } from './leaderboard.js';
import { type PipelineMetrics, pipelineMetrics } from './metrics.js';

export interface WorkerOptions {
  redis: Redis | Cluster;
  boards: BoardRegistry;
  /** Stream family name. Default `lb`. */
  name?: string;
  group?: string;
  partitions?: number;
  /** Top-K merge interval, ms. Default 50. */
  refreshMs?: number;
  /** Retention of streams, late events and dead letters, ms. Default 7 days. */
  retentionMs?: number;
  consumer?: Partial<Omit<ConsumerOptions, 'name' | 'group' | 'partitions'>>;
  registry?: Registry;
  onSnapshot?: (snapshot: Snapshot) => void;
  onError?: (error: unknown) => void;
}

/**
 * @example
 * const workers = new LeaderboardWorkers({ redis, boards });
 * await workers.start();
 * // ...
 * await workers.stop();
 */
export class LeaderboardWorkers {
  readonly consumer: Consumer;
  readonly metrics: PipelineMetrics;
  private subscription?: Subscription;
  private done?: Promise<void>;
  private readonly name: string;
  private readonly partitions: number;

  constructor(private readonly options: WorkerOptions) {
    this.name = options.name ?? DEFAULTS.name;
    this.partitions = options.partitions ?? DEFAULTS.partitions;
    this.consumer = new Consumer(options.redis, {
      batchSize: 1000,
      ...options.consumer,
      name: this.name,
      group: options.group ?? DEFAULTS.group,
      partitions: this.partitions,
    });
    this.consumer.on('error', (error) => options.onError?.(error));
    this.metrics = pipelineMetrics(options.registry ?? new Registry());
    this.consumer.on('deadLettered', (_, ids) => this.metrics.deadLetters.inc(ids.length));
  }

  /** Partitions this process owns now. */
  ownedPartitions(): number[] {
    return [...this.consumer.ownedPartitions().keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { redis, boards } = this.options;
    await boards.load();
    await this.consumer.start();
    const checkpoints = new CheckpointTracker(redis, this.name);
    const source = fromConsumer(this.consumer, checkpoints);
    const metrics = this.metrics;
    const output = leaderboardTopology.build({
      redis,
      name: this.name,
      group: this.consumer.options.group,
      partitions: this.partitions,
      boards,
      source,
      refreshMs: this.options.refreshMs,
      retentionMs: this.options.retentionMs,
      // The source has read the checkpoint of the batch's epoch before the batch gets here.
      initialStreamTime: (p) => checkpoints.streamTime(p) ?? 0,
      onError: this.options.onError,
      onApplied: (applied) => {
        metrics.batches.inc();
        metrics.eventsApplied.inc(applied.entries);
        metrics.lateEvents.inc(applied.late);
        metrics.deadLetters.inc(applied.rejected);
        metrics.duplicates.inc(applied.duplicates);
        metrics.batchLatency.observe(Math.max(0, applied.appliedAt - applied.newestArrival) / 1000);
        metrics.ownedPartitions.set(this.consumer.ownedPartitions().size);
      },
    });
    this.done = new Promise((resolve) => {
      this.subscription = output.subscribe({
        next: (snapshot) => {
          metrics.snapshots.inc();
          if (Number.isFinite(snapshot.oldestArrival)) {
            metrics.freshness.observe(Math.max(0, snapshot.updatedAt - snapshot.oldestArrival) / 1000);
          }
          this.options.onSnapshot?.(snapshot);
        },
        error: (error) => {
          this.options.onError?.(error);
          resolve();
        },
        complete: () => resolve(),
      });
    });
  }

  /** Stops reading, lets the batches in hand be applied and published, releases the leases. */
  async stop(): Promise<void> {
    await this.consumer.close();
    await this.done;
    this.subscription?.unsubscribe();
  }
}
