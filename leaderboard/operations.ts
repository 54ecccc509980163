/**
 * What operating the leaderboard needs of the layers below: whether any worker is alive, the
 * partitions' backlogs, their dead letters, and the connection appends go over.
 */
import type { Cluster, Redis } from 'ioredis';
import {
  createAppendConnection,
  membersKey,
  ReplicationTimeoutError,
  StreamAdmin,
} from 'redis-streams-consumer-groups';
import { DEFAULTS } from './defaults.js';

export type { DeadLetter, PartitionGroupInfo } from 'redis-streams-consumer-groups';
export { createAppendConnection, ReplicationTimeoutError, StreamAdmin };

/**
 * Whether any worker process of the group is alive (its heartbeat is in the members set).
 *
 * @example
 * if (!(await workersAlive(redis, 'lb'))) console.warn('no workers');
 */
export async function workersAlive(
  redis: Redis | Cluster,
  name: string,
  group: string = DEFAULTS.group,
): Promise<boolean> {
  const live = await redis.zrangebyscore(membersKey(name, group), Date.now(), '+inf');
  return live.length > 0;
}

/**
 * The admin of the leaderboard's streams: backlog per partition, dead letters, re-driving them.
 *
 * @example
 * const admin = streamAdmin(redis, { name: 'lb', partitions: 16 });
 * console.table(await admin.groupInfo());
 */
export function streamAdmin(
  redis: Redis | Cluster,
  options: { name?: string; partitions?: number } = {},
): StreamAdmin {
  return new StreamAdmin(redis, {
    name: options.name ?? DEFAULTS.name,
    group: DEFAULTS.group,
    partitions: options.partitions ?? DEFAULTS.partitions,
  });
}
