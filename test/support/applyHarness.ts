/**
 * The apply stage on its own, for tests of what it writes and reports: batches built by hand (as
 * the stages before it hand them on), each a real stream entry of its partition read under a real
 * lease, applied by `applyState` on a real Redis.
 */
import type { Redis } from 'ioredis';
import { defineConsumerGroupScripts, leaseToken, partitionKeys } from 'redis-streams-consumer-groups';
import { firstValueFrom, of } from 'rxjs';
import { applyState } from '../../operators/applyState.js';
import { CheckpointTracker } from '../../operators/checkpoints.js';
import type { BatchSettler } from '../../operators/fromConsumer.js';
import type { AggregatedPayload, AppliedBatch, Envelope, Update } from '../../operators/types.js';
import { GlobalWindows } from '../../topology/windows/index.js';

export interface ApplyHarness {
  /** The stages' batch of one partition, with these updates (in this order), not yet applied. */
  batch(partition: number, updates: Omit<Update, 'pos'>[]): Promise<Envelope<AggregatedPayload>>;
  /** Applies a batch and resolves with what the apply stage reported. */
  apply(envelope: Envelope<AggregatedPayload>): Promise<AppliedBatch>;
  /** Someone to settle with: always holds its leases. */
  readonly settler: BatchSettler;
}

/** The global window's one instance, as the stages hand it on. */
export const ALL_TIME = (() => {
  const definition = GlobalWindows.create();
  return { definition, start: 0, end: Number.POSITIVE_INFINITY, key: 'all:0' };
})();

/**
 * @example
 * const harness = applyHarness(redis, 'lb');
 * const applied = await harness.apply(await harness.batch(0, [update]));
 */
export function applyHarness(redis: Redis, name: string): ApplyHarness {
  defineConsumerGroupScripts(redis);
  const settler: BatchSettler = {
    checkpoints: new CheckpointTracker(redis, name),
    settle: () => {},
    giveBack: () => {},
    holds: () => true,
  };
  return {
    settler,
    async batch(partition, updates) {
      const keys = partitionKeys(name, partition);
      const epoch = await redis.acquireLease(keys.lease, keys.epoch, 'harness', 60_000);
      const id = (await redis.xadd(keys.stream, '*', 'b', 'harness'))!;
      const streamTime = Math.max(0, ...updates.map((u) => u.ts));
      return {
        partition,
        epoch,
        token: leaseToken(epoch, 'harness'),
        ids: [id],
        firstId: id,
        lastId: id,
        rejected: [],
        payload: { updates: updates.map((u, pos) => ({ ...u, pos })), identified: [], late: [], streamTime },
      };
    },
    apply(envelope) {
      return firstValueFrom(
        of(envelope).pipe(applyState({ redis, name, consumerGroup: 'workers', source: settler })),
      );
    },
  };
}
