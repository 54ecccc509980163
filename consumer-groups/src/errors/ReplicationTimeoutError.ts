import { ConsumerGroupsError } from './ConsumerGroupsError.js';

/**
 * Fewer replicas than asked acknowledged an append within the timeout (or no master could be
 * found for its slot). The append may be on the primary and may still reach the replicas: the
 * caller must treat it as not accepted, and a retry with an idempotency id counts once.
 */
export class ReplicationTimeoutError extends ConsumerGroupsError {
  readonly wanted: number;
  readonly acknowledged: number;

  constructor(wanted: number, acknowledged: number, timeoutMs: number, message?: string) {
    super(message ?? `${acknowledged} of ${wanted} replicas acknowledged the append within ${timeoutMs} ms`);
    this.name = 'ReplicationTimeoutError';
    this.wanted = wanted;
    this.acknowledged = acknowledged;
  }
}
