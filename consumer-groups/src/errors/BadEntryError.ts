import { ConsumerGroupsError } from './ConsumerGroupsError.js';

/** A stream entry that cannot be processed; it belongs in the dead-letter stream. */
export class BadEntryError extends ConsumerGroupsError {
  readonly partition: number;
  readonly entryId: string;

  constructor(partition: number, entryId: string, reason: string, options?: { cause?: unknown }) {
    super(`bad entry ${entryId} in partition ${partition}: ${reason}`, options);
    this.name = 'BadEntryError';
    this.partition = partition;
    this.entryId = entryId;
  }
}
