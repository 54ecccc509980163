/**
 * A replay registered on a partition (`registerReplay-2.lua` writes it), as the apply stage and the
 * replay read it back.
 */
import type { Cluster, Redis } from 'ioredis';
import { stateKeys } from '../stateKeys.js';
import type { ReplayRegistration } from './applyArgs.js';

/**
 * @example
 * const replay = await readReplayRegistration(redis, 'lb', 3); // undefined when none runs
 */
export async function readReplayRegistration(
  redis: Redis | Cluster,
  name: string,
  partition: number,
): Promise<ReplayRegistration | undefined> {
  const [id, group, windows, minStart] = await redis.hmget(
    stateKeys(name, partition).replay,
    'id',
    'group',
    'windows',
    'minStart',
  );
  if (!id || group == null || windows == null) return undefined;
  return {
    id,
    group,
    windows: new Set(windows.split(',').filter((w) => w !== '')),
    minStart: Number(minStart ?? Number.MIN_SAFE_INTEGER),
  };
}
