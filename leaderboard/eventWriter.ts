/**
 * The edge's way in: appends score events to their users' partitions (one round trip per
 * partition per call) and watches each partition's backlog, so the edge can refuse work with 503
 * before a partition grows without bound.
 */
import type { Cluster, Redis } from 'ioredis';
import { StreamAdmin } from 'redis-streams-consumer-groups';
import { PipelineProducer } from '../topology/index.js';
import { DEFAULTS } from './defaults.js';
import { scoreStreams } from './pipeline.js';
import type { ScoreEvent } from './scoreEvents.js';

export interface EventWriterOptions {
  name?: string;
  group?: string;
  partitions?: number;
  /** Stream retention, ms. Default 7 days. */
  retentionMs?: number;
  /** Backlog (undelivered + unacknowledged entries) above which a partition refuses writes. */
  highWaterMark?: number;
  /** How often backlogs are re-read, ms. Default 250. */
  backlogRefreshMs?: number;
  /** Resolve appends only once a replica holds them (DURABILITY=replicated), waiting this long at most. */
  replicated?: { timeoutMs: number };
}

/**
 * @example
 * const writer = new EventWriter(redis);
 * await writer.append([{ board: 'global', userId: 'ann', value: 5, ts: Date.now() }]);
 */
export class EventWriter {
  readonly partitions: number;
  readonly highWaterMark: number;
  private readonly producer: PipelineProducer<ScoreEvent>;
  private readonly admin: StreamAdmin;
  private backlogs: number[];
  private timer?: NodeJS.Timeout;

  constructor(redis: Redis | Cluster, options: EventWriterOptions = {}) {
    this.partitions = options.partitions ?? DEFAULTS.partitions;
    const name = options.name ?? DEFAULTS.name;
    this.producer = new PipelineProducer(scoreStreams, redis, {
      name,
      partitions: this.partitions,
      retentionMs: options.retentionMs,
      replicas: options.replicated && { replicas: 1, timeoutMs: options.replicated.timeoutMs },
    });
    this.admin = new StreamAdmin(redis, {
      name,
      group: options.group ?? DEFAULTS.group,
      partitions: this.partitions,
    });
    this.highWaterMark = options.highWaterMark ?? 1_000_000;
    this.backlogs = new Array(this.partitions).fill(0);
    const refreshMs = options.backlogRefreshMs ?? 250;
    this.timer = setInterval(() => void this.refreshBacklogs().catch(() => {}), refreshMs);
    this.timer.unref();
  }

  /** The partition of a user. */
  partitionOf(userId: string): number {
    return this.producer.partitionOfKey(userId);
  }

  /** Partitions among these users' whose backlog is over the high-water mark. */
  overloaded(userIds: Iterable<string>): number[] {
    const over = new Set<number>();
    for (const userId of userIds) {
      const p = this.overloadedPartition(userId);
      if (p !== undefined) over.add(p);
    }
    return [...over];
  }

  /** The partition of this user when its backlog is over the high-water mark. */
  overloadedPartition(userId: string): number | undefined {
    const p = this.partitionOf(userId);
    return (this.backlogs[p] ?? 0) > this.highWaterMark ? p : undefined;
  }

  /** Appends one event; resolves with its entry id once Redis has accepted it. */
  appendOne(event: ScoreEvent): Promise<string> {
    return this.producer.appendOne(event);
  }

  /** Appends events; resolves once Redis has accepted every one. */
  async append(events: readonly ScoreEvent[]): Promise<void> {
    await this.producer.append(events);
  }

  /** Re-reads every partition's backlog now. */
  async refreshBacklogs(): Promise<number[]> {
    const info = await this.admin.groupInfo();
    this.backlogs = info.map((p) => (p.lag ?? p.length) + p.pending);
    return this.backlogs;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
