/**
 * Runs a pipeline in this process: one consumer that takes a fair share of the partitions by
 * leases (more processes share them), the stages over its batches, the apply script, the top-K
 * merges, the sinks, metrics, and a graceful stop.
 */
import type { Cluster, Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Consumer, type ConsumerOptions } from 'redis-streams-consumer-groups';
import { map, type Observable, Subject, type Subscription, tap } from 'rxjs';
import { applyState } from '../operators/applyState.js';
import { CheckpointTracker } from '../operators/checkpoints.js';
import { fromConsumer } from '../operators/fromConsumer.js';
import { topK } from '../operators/topK.js';
import type { AppliedBatch, LateRecord, Snapshot } from '../operators/types.js';
import { type PipelineMetrics, pipelineMetrics } from './metrics.js';
import type { SinkContext } from './sinks.js';
import { recordStages } from './stages.js';
import type { Topology } from './topology.js';

export interface RunOptions {
  redis: Redis | Cluster;
  /** The stream family's name (key prefix). Default: the topology's stream. */
  name?: string;
  partitions: number;
  /** The consumer group of the workers. Default `workers`. */
  consumerGroup?: string;
  /** The least time between two merges of one top, ms. Default 20. */
  refreshMs?: number;
  /** Retention of late records and dead letters, ms. Default 7 days. */
  retentionMs?: number;
  consumer?: Partial<Omit<ConsumerOptions, 'name' | 'group' | 'partitions'>>;
  /** Where the metrics go; named after the pipeline (or `metricsPrefix`). */
  registry?: Registry;
  metricsPrefix?: string;
  onError?: (error: unknown) => void;
  /** Told when the top-K stage starts and stops having merges to do (the test driver waits on it). */
  onBusy?: (busy: boolean) => void;
}

export interface RunningPipeline {
  readonly consumer: Consumer;
  readonly metrics: PipelineMetrics;
  /** Every batch applied, as applied. */
  readonly applied: Observable<AppliedBatch>;
  /** Every snapshot stored by this process. */
  readonly snapshots: Observable<Snapshot>;
  /** Every (record, window) pair set aside as late, once its batch is applied. */
  readonly late: Observable<LateRecord>;
  ownedPartitions(): number[];
  /** Stops reading, lets the batches in hand be applied and merged, releases the leases. */
  stop(): Promise<void>;
}

/**
 * @example
 * const running = await runPipeline(trending, { redis, partitions: 16 });
 * running.snapshots.subscribe((s) => console.log(s.group, s.entries[0]));
 * // ...
 * await running.stop();
 */
export async function runPipeline<T>(topology: Topology<T>, options: RunOptions): Promise<RunningPipeline> {
  const { definition } = topology;
  const { redis, partitions } = options;
  const name = options.name ?? definition.stream;
  const onError = options.onError ?? (() => {});
  const consumer = new Consumer(redis, {
    batchSize: 1000,
    ...options.consumer,
    name,
    group: options.consumerGroup ?? 'workers',
    partitions,
  });
  consumer.on('error', onError);
  const metrics = pipelineMetrics(options.registry ?? new Registry(), {
    prefix: options.metricsPrefix ?? definition.name,
  });
  consumer.on('deadLettered', (_, ids) => metrics.deadLetters.inc(ids.length));
  await consumer.start();

  const checkpoints = new CheckpointTracker(redis, name);
  const source = fromConsumer(consumer, checkpoints);
  const ownedPartitions = () => [...consumer.ownedPartitions().keys()].sort((a, b) => a - b);
  const appliedSubject = new Subject<AppliedBatch>();
  const lateSubject = new Subject<LateRecord>();
  const snapshotSubject = new Subject<Snapshot>();

  const applied$ = source.batches.pipe(
    // The source has read the checkpoint of the batch's epoch before the batch gets here.
    recordStages(definition, { initialStreamTime: (p) => checkpoints.streamTime(p) ?? 0 }),
    applyState({
      redis,
      name,
      consumerGroup: consumer.options.group,
      source,
      retentionMs: options.retentionMs,
      onRetry: onError,
    }),
    tap((batch) => {
      metrics.batches.inc();
      metrics.eventsApplied.inc(batch.entries);
      metrics.lateEvents.inc(batch.lateCount);
      metrics.deadLetters.inc(batch.rejected);
      metrics.duplicates.inc(batch.duplicates);
      metrics.batchLatency.observe(Math.max(0, batch.appliedAt - batch.newestArrival) / 1000);
      metrics.ownedPartitions.set(consumer.ownedPartitions().size);
      appliedSubject.next(batch);
      for (const late of batch.late) lateSubject.next(late);
    }),
  );
  const output = applied$.pipe(
    topK({ redis, name, partitions, refreshMs: options.refreshMs, onError, onBusy: options.onBusy }),
    map((snapshot) => {
      metrics.snapshots.inc();
      if (Number.isFinite(snapshot.oldestArrival)) {
        metrics.freshness.observe(Math.max(0, snapshot.updatedAt - snapshot.oldestArrival) / 1000);
      }
      snapshotSubject.next(snapshot);
      return snapshot;
    }),
  );

  const context: SinkContext = {
    redis,
    name,
    partitions,
    groups: definition.spec,
    snapshots: snapshotSubject.asObservable(),
    late: lateSubject.asObservable(),
    ownedPartitions,
    onError,
  };
  const sinks = definition.sinks.map((sink) => sink.start(context));
  let subscription: Subscription | undefined;
  const done = new Promise<void>((resolve) => {
    subscription = output.subscribe({
      error: (error) => {
        onError(error);
        resolve();
      },
      complete: () => resolve(),
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    consumer,
    metrics,
    applied: appliedSubject.asObservable(),
    snapshots: snapshotSubject.asObservable(),
    late: lateSubject.asObservable(),
    ownedPartitions,
    stop() {
      stopping ??= (async () => {
        await consumer.close();
        await done;
        subscription?.unsubscribe();
        for (const sink of sinks) sink.stop();
        appliedSubject.complete();
        lateSubject.complete();
        snapshotSubject.complete();
      })();
      return stopping;
    },
  };
}
