/** Consumer-group creation, shared by the consumer and the admin helpers. */
import type { Cluster, Redis } from 'ioredis';
import { defineConsumerGroupScripts } from './scripts.js';

/**
 * Creates a consumer group on a stream (and the stream, `MKSTREAM`); a group that already exists
 * is left as it is. It runs as a script (`ensureGroup-1.lua`) so that a cluster client sends it
 * to the stream's node: `XGROUP` names its key after a subcommand, where ioredis cannot find it.
 * Resolves with true when the group was created.
 *
 * @example
 * await ensureGroup(redis, partitionKeys('lb', 0).stream, 'workers');
 */
export async function ensureGroup(
  redis: Redis | Cluster,
  stream: string,
  group: string,
  startId = '0',
): Promise<boolean> {
  defineConsumerGroupScripts(redis, ['ensureGroup']);
  return (await redis.ensureGroup(stream, group, startId)) === 1;
}

/** True for the error Redis gives when a group (or its stream) vanished, e.g. after a flush. */
export function isMissingGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}
