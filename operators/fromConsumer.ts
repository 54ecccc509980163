/**
 * The source of a pipeline: batches from a consumer-groups consumer, as an Observable, with entries
 * already applied (at or below the partition checkpoint) filtered out and acknowledged.
 */
import { type Batch, type Consumer, compareIds } from 'redis-streams-consumer-groups';
import { Observable } from 'rxjs';
import type { CheckpointTracker } from './checkpoints.js';

/** What the apply stage needs from the source: the checkpoints, and a way to free a batch. */
export interface BatchSettler {
  readonly checkpoints: CheckpointTracker;
  /** Frees the in-flight slot of the batch that ends at `lastId` (acked by the apply script). */
  settle(partition: number, lastId: string): void;
  /** Gives a batch back for redelivery (its entries stay pending). */
  giveBack(partition: number, lastId: string): void;
  /** Whether this process still holds the partition's lease under that epoch. */
  holds(partition: number, epoch: number): boolean;
}

export interface ConsumerSource extends BatchSettler {
  readonly batches: Observable<Batch>;
}

/**
 * Reads a consumer's batches as an Observable.
 *
 * Backpressure comes from the consumer: it never has more than `maxInFlight` unsettled batches
 * of a partition, and a batch is settled only when the apply stage has written it, so a slow
 * pipeline slows the reads instead of filling memory. Entries at or below the partition's
 * checkpoint (redelivered after a crash, already applied) are acknowledged and dropped here.
 *
 * ## Example
 * ```ts
 * import { Consumer } from 'redis-streams-consumer-groups';
 * import { CheckpointTracker } from './checkpoints.js';
 * import { fromConsumer } from './fromConsumer.js';
 * const consumer = new Consumer(redis, { name: 'lb', group: 'workers', partitions: 16 });
 * await consumer.start();
 * const source = fromConsumer(consumer, new CheckpointTracker(redis, 'lb'));
 * source.batches.subscribe((batch) => source.settle(batch.partition, batch.lastId));
 * ```
 *
 * @see decodeEntries
 * @see applyState
 * @param consumer A started consumer.
 * @param checkpoints The partitions' checkpoints.
 * @return The batches, and the settle functions the apply stage calls.
 */
export function fromConsumer(consumer: Consumer, checkpoints: CheckpointTracker): ConsumerSource {
  const inFlight = new Map<string, Batch>();
  const take = (partition: number, lastId: string) => {
    const key = `${partition}/${lastId}`;
    const batch = inFlight.get(key);
    inFlight.delete(key);
    return batch;
  };
  consumer.on('revoked', (partition) => checkpoints.forget(partition));

  const batches = new Observable<Batch>((subscriber) => {
    let stopped = false;
    void (async () => {
      try {
        for await (const batch of consumer) {
          if (stopped) break;
          let fresh: Batch | undefined;
          try {
            fresh = await withoutApplied(batch);
          } catch (error) {
            // Redis unreachable while the checkpoint was read or applied entries acknowledged:
            // the batch goes back (its entries stay pending and come again). Ending the stream
            // instead would stop this process's pipeline for good while its consumer keeps the
            // partitions' leases, so nobody would apply them.
            consumer.nack(batch);
            const err = error instanceof Error ? error : new Error(String(error));
            if (consumer.listenerCount('error') > 0) consumer.emit('error', err);
            else process.emitWarning(err);
            continue;
          }
          if (fresh) {
            inFlight.set(`${fresh.partition}/${fresh.lastId}`, batch);
            subscriber.next(fresh);
          }
        }
        subscriber.complete();
      } catch (error) {
        subscriber.error(error);
      }
    })();
    return () => {
      stopped = true;
    };
  });

  /** The batch without its already-applied entries (acknowledged here), or none if all were. */
  async function withoutApplied(batch: Batch): Promise<Batch | undefined> {
    const remembered = await checkpoints.get(batch.partition, batch.epoch, batch.redelivered);
    if (compareIds(batch.firstId, remembered) > 0) return batch;
    // Some entries look applied. Whether they are is the checkpoint in Redis's to say, in the
    // same step that acknowledges them: the remembered one may be ahead of it (a failover rolled
    // the partition's state back), and an entry acknowledged on its word would never count.
    const checkpoint = await checkpoints.acknowledgeApplied(batch, consumer.options.group);
    // A lost lease leaves the entries to the next owner, which filters them the same way.
    if (checkpoint === undefined) return undefined;
    const fresh = batch.entries.filter((e) => compareIds(e.id, checkpoint) > 0);
    if (fresh.length === 0) {
      consumer.settle(batch);
      return undefined;
    }
    return { ...batch, entries: fresh, firstId: fresh[0]!.id };
  }

  return {
    batches,
    checkpoints,
    settle(partition, lastId) {
      const batch = take(partition, lastId);
      if (batch) consumer.settle(batch);
    },
    giveBack(partition, lastId) {
      const batch = take(partition, lastId);
      if (batch) consumer.nack(batch);
    },
    holds(partition, epoch) {
      return consumer.ownedPartitions().get(partition) === epoch;
    },
  };
}
