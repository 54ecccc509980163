/**
 * The ends of a pipeline (`Topology...topK(k).to(...sinks)`): where its snapshots, its closed
 * windows' final tops and its late records go besides the state it keeps. Each sink is started by
 * the runner with the pipeline's streams of those, and stopped with it.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import { type ArchivedTop, type ArchiveStore, archiveSink } from '../operators/archiveSink.js';
import type { GroupLookup, LateRecord, Snapshot } from '../operators/types.js';

/** What a running pipeline hands its sinks. */
export interface SinkContext {
  redis: Redis | Cluster;
  /** The stream family's name (key prefix). */
  name: string;
  partitions: number;
  groups: GroupLookup;
  /** The snapshots this process stores, as it stores them. */
  snapshots: Observable<Snapshot>;
  /** The (record, window) pairs this process sets aside as late, once their batch is applied. */
  late: Observable<LateRecord>;
  /** The partitions this process owns now. */
  ownedPartitions(): number[];
  onError(error: unknown): void;
}

export interface Sink {
  name: string;
  /** What it does, for `describe()`. */
  description: string;
  /** What it takes: the snapshots, the late records, or the windows that close. */
  input: 'snapshots' | 'late' | 'closed';
  start(context: SinkContext): { stop(): void };
}

/**
 * Calls `listener` with every snapshot the pipeline stores (in this process).
 *
 * @example
 * Topology.fromStreams(...).aggregate(...).topK(10).to(snapshots((s) => console.log(s.group, s.entries)));
 */
export function snapshots(listener: (snapshot: Snapshot) => void, name = 'snapshots'): Sink {
  return {
    name,
    description: 'calls back with every snapshot stored',
    input: 'snapshots',
    start: (context) => {
      const subscription = context.snapshots.subscribe(listener);
      return { stop: () => subscription.unsubscribe() };
    },
  };
}

/**
 * Calls `listener` with every (record, window) pair set aside as late (they are also kept in each
 * partition's late stream, `{<name>:<p>}:late`).
 *
 * @example
 * Topology.fromStreams(...).aggregate(...).topK(10).to(lateRecords((l) => console.warn('late', l.record)));
 */
export function lateRecords(listener: (late: LateRecord) => void, name = 'late'): Sink {
  return {
    name,
    description: 'calls back with every late record (also kept in each partition’s late stream)',
    input: 'late',
    start: (context) => {
      const subscription = context.late.subscribe(listener);
      return { stop: () => subscription.unsubscribe() };
    },
  };
}

export interface ArchiveOptions {
  /** How often the closing sets are looked at, ms. Default 10 s. */
  intervalMs?: number;
  onArchived?: (top: ArchivedTop) => void;
}

/**
 * Archives each window instance's final top-K to `store` once it closes (its end plus grace
 * passed), from the partitions this process owns; idempotent, so overlapping owners are harmless.
 *
 * @example
 * Topology.fromStreams(...).aggregate(...).topK(10).to(archive({ archive: (top) => db.save(top) }));
 */
export function archive(store: ArchiveStore, options: ArchiveOptions = {}, name = 'archive'): Sink {
  return {
    name,
    description: 'archives each window instance’s final top-K once it closes',
    input: 'closed',
    start: (context) => {
      const subscription = archiveSink({
        redis: context.redis,
        name: context.name,
        partitions: context.partitions,
        groups: context.groups,
        store,
        intervalMs: options.intervalMs,
        partitionsToWatch: context.ownedPartitions,
        onRetry: (error) => context.onError(error),
      }).subscribe({
        next: (top) => options.onArchived?.(top),
        error: (error) => context.onError(error),
      });
      return { stop: () => subscription.unsubscribe() };
    },
  };
}
