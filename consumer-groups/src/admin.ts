/**
 * Operations on a stream family outside the consume loop: lag and pending per partition, moving a
 * group to an id or a time (the base of replay), checkpoints, and the dead-letter streams. Every
 * command names its partition's key where a cluster client finds it: `XINFO` and `XGROUP`, which
 * name it after a subcommand, run inside small scripts with the stream in `KEYS`.
 */
import type { Cluster, Redis } from 'ioredis';
import { decodeEntry, idBefore, type RawEntry } from './entries.js';
import { ensureGroup } from './groups.js';
import { partitionKeys } from './keys.js';
import { defineConsumerGroupScripts } from './scripts.js';

export interface AdminOptions {
  name: string;
  group: string;
  partitions: number;
}

export interface PartitionGroupInfo {
  partition: number;
  /** Entries in the stream. */
  length: number;
  /** Entries delivered and not acknowledged yet. */
  pending: number;
  /** Entries not yet delivered to the group (null when Redis cannot tell, e.g. after deletes). */
  lag: number | null;
  lastDeliveredId: string;
}

export interface DeadLetter {
  /** The dead letter's own id in the dead-letter stream. */
  id: string;
  partition: number;
  /** The id the entry had in the partition's stream. */
  originId: string;
  deliveries: number;
  reason: string;
  at: number;
  /** The original fields. */
  fields: Record<string, string>;
}

/**
 * @example
 * const admin = new StreamAdmin(redis, { name: 'lb', group: 'workers', partitions: 16 });
 * console.table(await admin.groupInfo());
 * await admin.resetGroup(new Date('2026-11-01T00:00:00Z'));
 */
export class StreamAdmin {
  constructor(
    private readonly redis: Redis | Cluster,
    readonly options: AdminOptions,
  ) {
    // `groupInfo` is what a producer's auto-pipelining connection calls (the edge's backlog
    // check), so it is defined now, before any pipeline: a script defined while one of the
    // client's auto-pipelines is pending is missing from it, and ioredis then throws from inside
    // the pipeline's callback, an uncaught exception that ends the process (ioredis issue 1931).
    defineConsumerGroupScripts(redis, ['groupInfo']);
  }

  /**
   * Defines the other scripts on first use only: ioredis copies every script a client defines
   * onto each of its pipelines, and an operation the edge never calls should not cost its appends.
   * Call them on a client that does not auto-pipeline (see the constructor).
   */
  private use(script: string): Redis | Cluster {
    defineConsumerGroupScripts(this.redis, [script]);
    return this.redis;
  }

  private get partitions(): number[] {
    return Array.from({ length: this.options.partitions }, (_, p) => p);
  }

  /** Creates the group on every partition; existing groups stay as they are. */
  async ensureGroups(startId = '0'): Promise<void> {
    const { name, group } = this.options;
    await Promise.all(
      this.partitions.map((p) => ensureGroup(this.redis, partitionKeys(name, p).stream, group, startId)),
    );
  }

  /** Length, pending, lag and last delivered id of the group, per partition. */
  async groupInfo(partitions: readonly number[] = this.partitions): Promise<PartitionGroupInfo[]> {
    return Promise.all(partitions.map((p) => this.partitionInfo(p)));
  }

  private async partitionInfo(partition: number): Promise<PartitionGroupInfo> {
    const { stream } = partitionKeys(this.options.name, partition);
    const [length, found, pending, lag, lastDeliveredId] = await this.use('groupInfo').groupInfo(
      stream,
      this.options.group,
    );
    return {
      partition,
      length,
      pending,
      // Without the group, everything in the stream is still to be delivered.
      lag: found === 0 ? length : lag < 0 ? null : lag,
      lastDeliveredId,
    };
  }

  /**
   * Moves the group's position on the given partitions, so that what follows is delivered again:
   * to an entry id (delivery resumes after it) or to a time (delivery resumes at the first entry
   * of that millisecond). Entries already pending stay pending.
   */
  async resetGroup(to: string | Date, partitions: readonly number[] = this.partitions): Promise<void> {
    const id = to instanceof Date ? idBefore(to.getTime()) : to;
    const { name, group } = this.options;
    const redis = this.use('setGroupId');
    await Promise.all(partitions.map((p) => redis.setGroupId(partitionKeys(name, p).stream, group, id)));
  }

  /** The last entry id applied to the partition's state, or `0-0`. */
  async checkpoint(partition: number): Promise<string> {
    const id = await this.redis.hget(partitionKeys(this.options.name, partition).checkpoint, 'id');
    return id ?? '0-0';
  }

  /** Dead letters of one partition, oldest first. */
  async deadLetters(
    partition: number,
    options: { from?: string; count?: number } = {},
  ): Promise<DeadLetter[]> {
    const { dlq } = partitionKeys(this.options.name, partition);
    const raw = (await this.redis.xrange(
      dlq,
      options.from ?? '-',
      '+',
      'COUNT',
      options.count ?? 100,
    )) as RawEntry[];
    return raw.map((r) => toDeadLetter(partition, r));
  }

  /** Dead letters of every partition, in partition order. */
  async allDeadLetters(countPerPartition = 100): Promise<DeadLetter[]> {
    const lists = await Promise.all(
      this.partitions.map((p) => this.deadLetters(p, { count: countPerPartition })),
    );
    return lists.flat();
  }

  /**
   * Appends dead letters (all of the partition's, or the given ids) to the partition's stream
   * again as new entries, and removes them from the dead-letter stream, atomically.
   * Resolves with the number re-driven.
   */
  async redrive(partition: number, ids?: readonly string[]): Promise<number> {
    const keys = partitionKeys(this.options.name, partition);
    this.use('redrive');
    let total = 0;
    if (ids) {
      const result = await this.redis.redrive(keys.dlq, keys.stream, keys.redriven, ...ids);
      return result.filter((id) => id !== null).length;
    }
    for (;;) {
      const page = (await this.redis.xrange(keys.dlq, '-', '+', 'COUNT', 500)) as RawEntry[];
      if (page.length === 0) return total;
      const result = await this.redis.redrive(
        keys.dlq,
        keys.stream,
        keys.redriven,
        ...page.map(([id]) => id),
      );
      total += result.filter((id) => id !== null).length;
    }
  }

  /**
   * Ids of the partition's entries that were dead-lettered: those still in the dead-letter stream
   * and those re-driven as new entries. A replay of the stream skips them, as the consumers did.
   */
  async deadLetteredIds(partition: number): Promise<Set<string>> {
    const keys = partitionKeys(this.options.name, partition);
    const ids = new Set(await this.redis.zrange(keys.redriven, 0, -1));
    for (let from = '-'; ; ) {
      const page = (await this.redis.xrange(keys.dlq, from, '+', 'COUNT', 1000)) as RawEntry[];
      for (const raw of page) {
        const origin = toDeadLetter(partition, raw).originId;
        if (origin) ids.add(origin);
      }
      if (page.length < 1000) return ids;
      from = `(${page[page.length - 1]![0]}`;
    }
  }
}

function toDeadLetter(partition: number, raw: RawEntry): DeadLetter {
  const { id, fields: all } = decodeEntry(raw);
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) if (!name.startsWith('dlq.')) fields[name] = value;
  return {
    id,
    partition,
    originId: all['dlq.origin'] ?? '',
    deliveries: Number(all['dlq.deliveries'] ?? 0),
    reason: all['dlq.reason'] ?? '',
    at: Number(all['dlq.at'] ?? 0),
    fields,
  };
}
