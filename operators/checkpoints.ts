/**
 * The last applied entry id of each partition, kept in memory by the process that owns the
 * partition and re-read from Redis whenever it may be stale (a new lease, a redelivered batch).
 * The source filters out entries at or below it, so a batch redelivered after a crash or a
 * takeover never counts twice; the apply script checks it again, atomically.
 */
import type { Cluster, Redis } from 'ioredis';
import { compareIds, partitionKeys } from 'redis-streams-consumer-groups';

export class CheckpointTracker {
  private readonly known = new Map<number, { epoch: number; id: string; streamTime: number }>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
  ) {}

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
