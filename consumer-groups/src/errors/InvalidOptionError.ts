import { ConsumerGroupsError } from './ConsumerGroupsError.js';

/** An option given to a producer, consumer or admin is out of its range. */
export class InvalidOptionError extends ConsumerGroupsError {
  constructor(option: string, expected: string, got: unknown) {
    super(`option ${option} must be ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'InvalidOptionError';
  }
}
