/**
 * The pipeline's Prometheus metrics. One registry per process; the server serves it on /metrics.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface PipelineMetrics {
  eventsApplied: Counter;
  batches: Counter;
  lateEvents: Counter;
  deadLetters: Counter;
  duplicates: Counter;
  batchLatency: Histogram;
  freshness: Histogram;
  snapshots: Counter;
  ownedPartitions: Gauge;
  lag: Gauge<'partition'>;
  pending: Gauge<'partition'>;
}

/** Metrics are registered once per registry; a second call returns the same ones. */
const created = new WeakMap<Registry, PipelineMetrics>();

export interface PartitionBacklog {
  partition: number;
  /** Entries not yet delivered. */
  lag: number;
  /** Entries delivered, not yet acknowledged. */
  pending: number;
}

export interface PipelineMetricsOptions {
  /** Reads every partition's backlog when Prometheus scrapes; without it lag and pending stay unset. */
  partitionBacklogs?: () => Promise<PartitionBacklog[]>;
}

/**
 * The pipeline's metrics on a registry. The first call for a registry creates them (with its
 * options); later calls return the same ones.
 *
 * @example
 * const metrics = pipelineMetrics(registry, { partitionBacklogs: readBacklogs });
 */
export function pipelineMetrics(registry: Registry, options: PipelineMetricsOptions = {}): PipelineMetrics {
  const existing = created.get(registry);
  if (existing) return existing;
  const registers = [registry];
  // A scrape collects every metric at once: both backlog gauges share the one read in flight.
  let reading: Promise<PartitionBacklog[]> | undefined;
  const backlogs = (): Promise<PartitionBacklog[]> => {
    if (!options.partitionBacklogs) return Promise.resolve([]);
    reading ??= options.partitionBacklogs().finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const metrics: PipelineMetrics = {
    eventsApplied: new Counter({
      name: 'lb_events_applied_total',
      help: 'Stream entries in the partition batches this process applied (scored, late, dead-lettered or dropped as duplicates)',
      registers,
    }),
    batches: new Counter({
      name: 'lb_batches_applied_total',
      help: 'Partition batches this process applied, one apply script call each',
      registers,
    }),
    lateEvents: new Counter({
      name: 'lb_late_events_total',
      help: 'Late (event, window) pairs set aside: one per window of the event’s board whose end plus grace the partition’s stream time had passed',
      registers,
    }),
    deadLetters: new Counter({
      name: 'lb_dead_letters_total',
      help: 'Stream entries this process moved to a dead-letter stream: undecodable, of an unknown board, or delivered too often',
      registers,
    }),
    duplicates: new Counter({
      name: 'lb_duplicate_events_total',
      help: 'Events dropped as repeats of an eventId already applied for the same board and user within 24 hours',
      registers,
    }),
    batchLatency: new Histogram({
      name: 'lb_batch_latency_seconds',
      help: 'Seconds from the arrival of a partition batch’s newest entry (its stream id) to the batch’s apply',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    freshness: new Histogram({
      name: 'lb_freshness_seconds',
      help: 'Per top-K snapshot: seconds from the arrival of the oldest entry it is the first snapshot of its (board, window) to include, to its write',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    snapshots: new Counter({
      name: 'lb_snapshots_total',
      help: 'Top-K snapshots this process wrote and published, one per (board, window) merge',
      registers,
    }),
    ownedPartitions: new Gauge({
      name: 'lb_owned_partitions',
      help: 'Partitions whose lease this process’s workers held at their last applied batch',
      registers,
    }),
    lag: new Gauge({
      name: 'lb_partition_lag',
      help: 'Entries of the partition’s stream not yet delivered to the worker group (read from Redis at scrape)',
      labelNames: ['partition'],
      registers,
      // Read from Redis when Prometheus scrapes, not on a timer.
      async collect() {
        for (const p of await backlogs()) this.set({ partition: String(p.partition) }, p.lag);
      },
    }),
    pending: new Gauge({
      name: 'lb_partition_pending',
      help: 'Entries of the partition’s stream delivered to a worker and not yet acknowledged (read from Redis at scrape)',
      labelNames: ['partition'],
      registers,
      async collect() {
        for (const p of await backlogs()) this.set({ partition: String(p.partition) }, p.pending);
      },
    }),
  };
  created.set(registry, metrics);
  return metrics;
}
