import { ConsumerGroupsError } from './ConsumerGroupsError.js';

/**
 * The consumer no longer holds the partition's lease under the epoch it read the batch with:
 * the lease expired (the process was paused or cut off) or another consumer took it over.
 * Whatever the caller was doing for that partition must stop; the entries will be redelivered.
 */
export class LeaseLostError extends ConsumerGroupsError {
  readonly partition: number;
  readonly epoch: number;

  constructor(partition: number, epoch: number, options?: { cause?: unknown }) {
    super(`lease on partition ${partition} (epoch ${epoch}) is lost: it expired or was taken over`, options);
    this.name = 'LeaseLostError';
    this.partition = partition;
    this.epoch = epoch;
  }
}
