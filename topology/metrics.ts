/**
 * A pipeline's Prometheus metrics, named after it (`<prefix>_events_applied_total`, ...). One
 * registry per process; the leaderboard's server serves it on /metrics.
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

/** Metrics are registered once per registry and prefix; a second call returns the same ones. */
const created = new WeakMap<Registry, Map<string, PipelineMetrics>>();

export interface PartitionBacklog {
  partition: number;
  /** Entries not yet delivered. */
  lag: number;
  /** Entries delivered, not yet acknowledged. */
  pending: number;
}

export interface PipelineMetricsOptions {
  /** The metrics' name prefix: the pipeline's name with `[^a-zA-Z0-9_]` as `_`. */
  prefix: string;
  /** Reads every partition's backlog when Prometheus scrapes; without it lag and pending stay unset. */
  partitionBacklogs?: () => Promise<PartitionBacklog[]>;
}

/**
 * A pipeline's metrics on a registry. The first call for a registry and prefix creates them (with
 * its options); later calls return the same ones.
 *
 * @example
 * const metrics = pipelineMetrics(registry, { prefix: 'lb', partitionBacklogs: readBacklogs });
 */
export function pipelineMetrics(registry: Registry, options: PipelineMetricsOptions): PipelineMetrics {
  const prefix = options.prefix.replace(/[^a-zA-Z0-9_]/g, '_');
  let byPrefix = created.get(registry);
  if (!byPrefix) {
    byPrefix = new Map();
    created.set(registry, byPrefix);
  }
  const existing = byPrefix.get(prefix);
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
      name: `${prefix}_events_applied_total`,
      help: 'Stream entries applied to state (counted, late, rejected or duplicate): each entry of each applied batch',
      registers,
    }),
    batches: new Counter({
      name: `${prefix}_batches_applied_total`,
      help: 'Partition batches applied (one apply script each)',
      registers,
    }),
    lateEvents: new Counter({
      name: `${prefix}_late_events_total`,
      help: '(record, window instance) pairs set aside as late: past the instance’s end plus grace by stream time',
      registers,
    }),
    deadLetters: new Counter({
      name: `${prefix}_dead_letters_total`,
      help: 'Stream entries moved to a dead-letter stream (undecodable, unknown group, or delivered too often)',
      registers,
    }),
    duplicates: new Counter({
      name: `${prefix}_duplicate_events_total`,
      help: 'Records dropped as repeats of an id the same member sent for the same group within 24 hours',
      registers,
    }),
    batchLatency: new Histogram({
      name: `${prefix}_batch_latency_seconds`,
      help: 'Seconds from the arrival of a batch’s newest entry to the end of its apply',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    freshness: new Histogram({
      name: `${prefix}_freshness_seconds`,
      help: 'Seconds from the arrival of the oldest entry a snapshot is the first to show to that snapshot being stored',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    snapshots: new Counter({
      name: `${prefix}_snapshots_total`,
      help: 'Top-K snapshots stored by this process',
      registers,
    }),
    ownedPartitions: new Gauge({
      name: `${prefix}_owned_partitions`,
      help: 'Partitions whose lease this process holds',
      registers,
    }),
    lag: new Gauge({
      name: `${prefix}_partition_lag`,
      help: 'Stream entries of the partition not yet delivered to the consumer group',
      labelNames: ['partition'],
      registers,
      // Read from Redis when Prometheus scrapes, not on a timer.
      async collect() {
        for (const p of await backlogs()) this.set({ partition: String(p.partition) }, p.lag);
      },
    }),
    pending: new Gauge({
      name: `${prefix}_partition_pending`,
      help: 'Stream entries of the partition delivered but not yet acknowledged',
      labelNames: ['partition'],
      registers,
      async collect() {
        for (const p of await backlogs()) this.set({ partition: String(p.partition) }, p.pending);
      },
    }),
  };
  byPrefix.set(prefix, metrics);
  return metrics;
}
