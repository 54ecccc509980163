/**
 * The leaderboard's workers in this process: the leaderboard pipeline run by the library's runner
 * (one consumer taking a fair share of the partitions by leases; more processes share them), with
 * its metrics under `lb_` and the closed windows archived to the relational store when one is given.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { ConsumerOptions } from 'redis-streams-consumer-groups';
import { type ArchiveStore, type RunningPipeline, runPipeline, type Snapshot } from '../topology/index.js';
import type { BoardRegistry } from './boards.js';
import { DEFAULTS } from './defaults.js';
import { leaderboardTopology } from './pipeline.js';
import type { BoardEntry } from './queries.js';

export interface WorkerOptions {
  redis: Redis | Cluster;
  boards: BoardRegistry;
  /** Stream family name. Default `lb`. */
  name?: string;
  group?: string;
  partitions?: number;
  /** The least time between two merges of one top, ms. Default 20. */
  refreshMs?: number;
  /** Retention of late events and dead letters, ms. Default 7 days. */
  retentionMs?: number;
  consumer?: Partial<Omit<ConsumerOptions, 'name' | 'group' | 'partitions'>>;
  registry?: Registry;
  /** Where closed windows' final tops are archived (the relational store); none: not archived here. */
  archive?: ArchiveStore;
  onSnapshot?: (snapshot: BoardSnapshot) => void;
  onError?: (error: unknown) => void;
}

/** A new version of a board's top-K, as a worker stored it. */
export interface BoardSnapshot {
  board: string;
  window: string;
  windowStart: number;
  version: number;
  updatedAt: number;
  entries: BoardEntry[];
  /** Arrival time of the oldest entry whose change this snapshot is the first to show. */
  oldestArrival: number;
}

/**
 * @example
 * const workers = new LeaderboardWorkers({ redis, boards });
 * await workers.start();
 * // ...
 * await workers.stop();
 */
export class LeaderboardWorkers {
  private running?: RunningPipeline;

  constructor(private readonly options: WorkerOptions) {}

  /** The library's running pipeline (its consumer, metrics, outputs); undefined before `start()`. */
  get pipeline(): RunningPipeline | undefined {
    return this.running;
  }

  /** The pipeline's metrics (`lb_...`); throws before `start()`. */
  get metrics(): RunningPipeline['metrics'] {
    if (!this.running) throw new Error('the workers have not started');
    return this.running.metrics;
  }

  /** The consumer that holds this process's leases; throws before `start()`. */
  get consumer(): RunningPipeline['consumer'] {
    if (!this.running) throw new Error('the workers have not started');
    return this.running.consumer;
  }

  /** Partitions this process owns now. */
  ownedPartitions(): number[] {
    return this.running?.ownedPartitions() ?? [];
  }

  async start(): Promise<void> {
    const options = this.options;
    await options.boards.load();
    this.running = await runPipeline(leaderboardTopology(options.boards, { archive: options.archive }), {
      redis: options.redis,
      name: options.name ?? DEFAULTS.name,
      partitions: options.partitions ?? DEFAULTS.partitions,
      consumerGroup: options.group ?? DEFAULTS.group,
      refreshMs: options.refreshMs,
      retentionMs: options.retentionMs,
      consumer: options.consumer,
      registry: options.registry,
      metricsPrefix: DEFAULTS.metricsPrefix,
      onError: options.onError,
    });
    const { onSnapshot } = options;
    if (onSnapshot) this.running.snapshots.subscribe((snapshot) => onSnapshot(boardSnapshot(snapshot)));
  }

  /** Stops reading, lets the batches in hand be applied and published, releases the leases. */
  async stop(): Promise<void> {
    await this.running?.stop();
  }
}

function boardSnapshot(snapshot: Snapshot): BoardSnapshot {
  return {
    board: snapshot.group,
    window: snapshot.window.definition.name,
    windowStart: snapshot.window.start,
    version: snapshot.version,
    updatedAt: snapshot.updatedAt,
    entries: snapshot.entries.map((e) => ({ rank: e.rank, userId: e.member, score: e.score })),
    oldestArrival: snapshot.oldestArrival,
  };
}
