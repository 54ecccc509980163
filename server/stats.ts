/**
 * The numbers behind the dashboard's charts (`GET /v1/stats`): the process's counters sampled every
 * second into rates, freshness quantiles from the workers' histogram, and every partition's backlog
 * read from the stream groups. Rates are computed here, from counter deltas between samples, so
 * that every viewer sees the same figures and no browser parses Prometheus text.
 */
import type { Counter, Histogram } from 'prom-client';
import type { PartitionBacklog } from '../leaderboard/index.js';

/** One sample: rates over the second before `at`, and the backlog read at `at`. */
export interface StatsSample {
  /** Epoch ms of the sample. */
  at: number;
  /** Events this process's edge accepted (202), per second. */
  ingestedPerSecond: number;
  /** Stream entries this process's workers applied, per second; null without workers here. */
  appliedPerSecond: number | null;
  /** (event, window) pairs set aside as late by this process's workers, per second; null without workers. */
  lateEventsPerSecond: number | null;
  /** Entries moved to the dead-letter streams by this process's workers, per second; null without workers. */
  deadLettersPerSecond: number | null;
  /** Freshness quantiles over the snapshots of the last `FRESHNESS_WINDOW_MS`, ms; null without any. */
  freshnessP50Ms: number | null;
  freshnessP99Ms: number | null;
  /** Per partition (index = partition): undelivered plus unacknowledged entries; null when not read. */
  backlog: number[] | null;
}

export interface StatsBody {
  intervalMs: number;
  /** Whether worker pipelines run in this process (otherwise applied, late, dead letters and freshness are null). */
  workersInProcess: boolean;
  partitions: number;
  /** Oldest first, at most `HISTORY` of them. */
  samples: StatsSample[];
}

export interface StatsSources {
  partitions: number;
  eventsAccepted: Counter;
  eventsApplied: Counter;
  lateEvents: Counter;
  deadLetters: Counter;
  freshness: Histogram;
  /** Whether workers run in this process now (they are attached after the services are built). */
  workersInProcess: () => boolean;
  /** Every partition's backlog, from Redis (all processes' workers). */
  backlogs: () => Promise<PartitionBacklog[]>;
}

export interface StatsOptions {
  /** Sampling interval, ms. Default 1000. */
  intervalMs?: number;
  /** The backlog is read from Redis only this long after the last `/v1/stats` request, ms. Default 30,000. */
  backlogIdleMs?: number;
}

/** Samples kept: five minutes at one a second. */
export const HISTORY = 300;
/** Freshness quantiles cover the snapshots of this last span, so one slow snapshot does not vanish in a second. */
export const FRESHNESS_WINDOW_MS = 10_000;

interface Reading {
  at: number;
  accepted: number;
  applied: number;
  late: number;
  dead: number;
  /** Cumulative freshness bucket counts, in `bounds` order, the last one +Inf. */
  buckets: number[];
}

/**
 * Samples the counters every `intervalMs` (an unref'd timer: it never keeps a process alive) and
 * keeps the last `HISTORY` samples. The backlog costs one `XLEN` and one `XINFO GROUPS` per
 * partition, so it is read only while someone has asked for the stats recently.
 *
 * @example
 * const stats = new StatsSampler(sources);
 * stats.start();
 * const body = stats.body(Date.now() - 10_000); // the samples of the last ten seconds
 * stats.stop();
 */
export class StatsSampler {
  private readonly samples: StatsSample[] = [];
  private readonly readings: Reading[] = [];
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;
  private lastAsked = Number.NEGATIVE_INFINITY;
  private bounds?: number[];
  readonly intervalMs: number;
  private readonly backlogIdleMs: number;

  constructor(
    private readonly sources: StatsSources,
    options: StatsOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.backlogIdleMs = options.backlogIdleMs ?? 30_000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample().catch(() => {}), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Takes one sample now (the timer calls it; tests call it to avoid waiting). The first call only
   * records the counters: a rate needs two readings.
   */
  sample(): Promise<void> {
    this.sampling ??= this.takeSample().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  /** The body of `/v1/stats`: the samples taken after `since` (epoch ms; default all kept). */
  body(since = Number.NEGATIVE_INFINITY): StatsBody {
    this.lastAsked = Date.now();
    return {
      intervalMs: this.intervalMs,
      workersInProcess: this.sources.workersInProcess(),
      partitions: this.sources.partitions,
      samples: this.samples.filter((s) => s.at > since),
    };
  }

  private async takeSample(): Promise<void> {
    const s = this.sources;
    const withBacklog = Date.now() - this.lastAsked < this.backlogIdleMs;
    const [accepted, applied, late, dead, freshness, backlogs] = await Promise.all([
      total(s.eventsAccepted),
      total(s.eventsApplied),
      total(s.lateEvents),
      total(s.deadLetters),
      s.freshness.get(),
      withBacklog ? s.backlogs() : undefined,
    ]);
    const buckets = freshness.values.filter((v) => v.metricName?.endsWith('_bucket'));
    this.bounds ??= buckets.map((v) => Number(v.labels.le));
    const reading: Reading = {
      at: Date.now(),
      accepted,
      applied,
      late,
      dead,
      buckets: buckets.map((v) => v.value),
    };
    const previous = this.readings.at(-1);
    this.readings.push(reading);
    // Keep just enough readings for the freshness window (plus the one before it).
    while (this.readings.length > 2 && this.readings[1]!.at <= reading.at - FRESHNESS_WINDOW_MS) {
      this.readings.shift();
    }
    if (!previous) return;
    const seconds = Math.max(1, reading.at - previous.at) / 1000;
    const rate = (now: number, before: number) => round(Math.max(0, now - before) / seconds);
    const workers = s.workersInProcess();
    const oldest = this.readings[0]!;
    const counts = reading.buckets.map((c, i) => c - (oldest.buckets[i] ?? 0));
    const backlog = backlogs
      ? Array.from({ length: s.partitions }, (_, p) => {
          const b = backlogs.find((x) => x.partition === p);
          return b ? b.lag + b.pending : 0;
        })
      : null;
    this.samples.push({
      at: reading.at,
      ingestedPerSecond: rate(reading.accepted, previous.accepted),
      appliedPerSecond: workers ? rate(reading.applied, previous.applied) : null,
      lateEventsPerSecond: workers ? rate(reading.late, previous.late) : null,
      deadLettersPerSecond: workers ? rate(reading.dead, previous.dead) : null,
      freshnessP50Ms: workers ? quantileMs(this.bounds, counts, 0.5) : null,
      freshnessP99Ms: workers ? quantileMs(this.bounds, counts, 0.99) : null,
      backlog,
    });
    if (this.samples.length > HISTORY) this.samples.shift();
  }
}

async function total(counter: Counter): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * The q-quantile of a histogram's observations from its cumulative bucket counts, interpolated
 * linearly inside the bucket as Prometheus' `histogram_quantile` does (so its resolution is the
 * buckets'), in ms; null without observations. In the +Inf bucket it answers the largest bound.
 *
 * @example
 * quantileMs([0.1, 0.5, Infinity], [2, 4, 4], 0.5); // 100
 */
export function quantileMs(bounds: number[], cumulative: number[], q: number): number | null {
  const count = cumulative.at(-1) ?? 0;
  if (count <= 0) return null;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i]!;
    const c = cumulative[i]!;
    if (c >= rank) {
      if (!Number.isFinite(upper)) return round(lowerBound * 1000);
      const inBucket = c - lowerCount;
      const share = inBucket > 0 ? (rank - lowerCount) / inBucket : 1;
      return round((lowerBound + (upper - lowerBound) * share) * 1000);
    }
    lowerBound = upper;
    lowerCount = c;
  }
  return round(lowerBound * 1000);
}
