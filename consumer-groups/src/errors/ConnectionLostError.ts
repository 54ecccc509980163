import { ConsumerGroupsError } from './ConsumerGroupsError.js';

/** A Redis command failed because the connection is down; the consumer retries with backoff. */
export class ConnectionLostError extends ConsumerGroupsError {
  readonly operation: string;

  constructor(operation: string, cause: unknown) {
    super(`redis connection lost during ${operation}: ${describe(cause)}`, { cause });
    this.name = 'ConnectionLostError';
    this.operation = operation;
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
