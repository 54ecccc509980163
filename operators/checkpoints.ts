/**
 * The last applied entry id of each partition, kept in memory by the process that owns the
 * partition and re-read from Redis whenever it may be stale (a new lease, a redelivered batch).
 * The source filters out entries at or below it, so a batch redelivered after a crash or a
 * takeover never counts twice; the apply script checks it again, atomically.
 */
import type { Cluster, Redis } from 'ioredis';
import { compareIds, partitionKeys } from 'redis-streams-consumer-groups';

export class CheckpointTracker {
  private readonly known = new Map<number, { epoch: number; id: string }>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly name: string,
  ) {}

  /** The partition's checkpoint, from memory when it is current for this epoch. */
  async get(partition: number, epoch: number, reload = false): Promise<string> {
    const cached = this.known.get(partition);
    if (cached && cached.epoch === epoch && !reload) return cached.id;
    const id = (await this.redis.hget(partitionKeys(this.name, partition).checkpoint, 'id')) ?? '0-0';
    this.known.set(partition, { epoch, id });
    return id;
  }

  /** Records a checkpoint the apply script just wrote. */
  advance(partition: number, epoch: number, id: string): void {
    const cached = this.known.get(partition);
    if (!cached || cached.epoch !== epoch || compareIds(id, cached.id) > 0)
      this.known.set(partition, { epoch, id });
  }

  /** Forgets a partition, e.g. when its lease is lost. */
  forget(partition: number): void {
    this.known.delete(partition);
  }
}
