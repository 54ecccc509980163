/** Consumer-group creation, shared by the consumer and the admin helpers. */
import type { Cluster, Redis } from 'ioredis';

/**
 * Creates a consumer group on a stream (and the stream, `MKSTREAM`); a group that already exists
 * is left as it is.
 *
 * @example
 * await ensureGroup(redis, '{lb:0}:in', 'workers');
 */
export async function ensureGroup(
  redis: Redis | Cluster,
  stream: string,
  group: string,
  startId = '0',
): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
  }
}

/** True for the error Redis gives when a group (or its stream) vanished, e.g. after a flush. */
export function isMissingGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}
