/**
 * The last applied entry id of each partition, kept in memory by the process that owns the
 * partition and re-read from Redis whenever it may be stale (a new lease, a redelivered batch).
 * The source filters out entries at or below it, so a batch redelivered after a crash or a
 * takeover never counts twice; the apply script checks it again, atomically. Memory only ever
 * lets a batch through: entries are dropped as applied on the word of the checkpoint in Redis,
 * read in the same script that acknowledges them (`acknowledgeApplied`).
 */
import type { Cluster, Redis } from 'ioredis';
import { type Batch, compareIds, partitionKeys } from 'redis-streams-consumer-groups';
import { defineOperatorScripts } from './internal/scripts.js';

export class CheckpointTracker {
  private readonly known = new Map<number, { epoch: number; id: string; streamTime: number }>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
  ) {
    defineOperatorScripts(redis, ['ackApplied']);
  }

  /**
   * Acknowledges the batch's entries that the partition's state holds, judged by the checkpoint in
   * Redis in the same atomic step (`ackApplied-3.lua`), and remembers that checkpoint: the one in
   * memory may be ahead of it, since a failover can roll a partition's state back to what the
   * promoted replica had. Resolves with the checkpoint (the entries after it are still to apply),
   * or undefined when the lease is lost (nothing acknowledged; the next owner filters them).
   *
   * @example
   * const checkpoint = await checkpoints.acknowledgeApplied(batch, 'workers');
   * const fresh = batch.entries.filter((e) => compareIds(e.id, checkpoint!) > 0);
   */
  async acknowledgeApplied(batch: Batch, group: string): Promise<string | undefined> {
    const keys = partitionKeys(this.name, batch.partition);
    const reply = await this.redis.ackApplied(
      keys.stream,
      keys.lease,
      keys.checkpoint,
      group,
      batch.token,
      ...batch.entries.map((e) => e.id),
    );
    if (reply === -1) return undefined;
    const [id, streamTime] = reply;
    this.known.set(batch.partition, { epoch: batch.epoch, id, streamTime: Number(streamTime) });
    return id;
  }

  /** The partition's checkpoint, from memory when it is current for this epoch. */
  async get(partition: number, epoch: number, reload = false): Promise<string> {
    const cached = this.known.get(partition);
    if (cached && cached.epoch === epoch && !reload) return cached.id;
    const [id, streamTime] = await this.redis.hmget(
      partitionKeys(this.name, partition).checkpoint,
      'id',
      'streamTime',
    );
    this.known.set(partition, { epoch, id: id ?? '0-0', streamTime: Number(streamTime ?? 0) });
    return id ?? '0-0';
  }

  /**
   * The stream time stored with the partition's checkpoint, as last read or advanced here; undefined
   * when the partition's checkpoint was never read.
   */
  streamTime(partition: number): number | undefined {
    return this.known.get(partition)?.streamTime;
  }

  /** Records a checkpoint (and the stream time stored with it) the apply script just wrote. */
  advance(partition: number, epoch: number, id: string, streamTime: number): void {
    const cached = this.known.get(partition);
    if (!cached || cached.epoch !== epoch || compareIds(id, cached.id) > 0)
      this.known.set(partition, { epoch, id, streamTime });
  }

  /**
   * Marks a partition's checkpoint as stale, e.g. when its lease is lost: the next `get` re-reads
   * it. The last known stream time stays readable: a lease lost by an old epoch's batch may come
   * after the new epoch's first read.
   */
  forget(partition: number): void {
    const cached = this.known.get(partition);
    if (cached) cached.epoch = Number.NaN;
  }
}
