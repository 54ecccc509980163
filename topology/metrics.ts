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
      help: 'Stream entries written to state',
      registers,
    }),
    batches: new Counter({ name: 'lb_batches_applied_total', help: 'Partition batches applied', registers }),
    lateEvents: new Counter({
      name: 'lb_late_events_total',
      help: 'Events past their window end plus grace',
      registers,
    }),
    deadLetters: new Counter({
      name: 'lb_dead_letters_total',
      help: 'Entries moved to a dead-letter stream',
      registers,
    }),
    duplicates: new Counter({
      name: 'lb_duplicate_events_total',
      help: 'Events dropped as repeats of an eventId',
      registers,
    }),
    batchLatency: new Histogram({
      name: 'lb_batch_latency_seconds',
      help: 'From a batch’s newest entry arriving to its apply',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    freshness: new Histogram({
      name: 'lb_freshness_seconds',
      help: 'From an event’s arrival to the first snapshot that shows it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    snapshots: new Counter({ name: 'lb_snapshots_total', help: 'Top-K snapshots written', registers }),
    ownedPartitions: new Gauge({
      name: 'lb_owned_partitions',
      help: 'Partitions this process owns',
      registers,
    }),
    lag: new Gauge({
      name: 'lb_partition_lag',
      help: 'Entries not yet delivered',
      labelNames: ['partition'],
      registers,
      // Read from Redis when Prometheus scrapes, not on a timer.
      async collect() {
        for (const p of await backlogs()) this.set({ partition: String(p.partition) }, p.lag);
      },
    }),
    pending: new Gauge({
      name: 'lb_partition_pending',
      help: 'Entries delivered, not yet acknowledged',
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
