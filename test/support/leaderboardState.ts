/** Reads the real system's state back for comparison with the model. */
import type { Redis } from 'ioredis';
import { StreamAdmin } from 'redis-streams-consumer-groups';
import { scoresKey } from '../../operators/stateKeys.js';

/** Every user's score in a window, merged over the partitions. */
export async function scoreTable(
  redis: Redis,
  name: string,
  partitions: number,
  board: string,
  windowKey: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let p = 0; p < partitions; p++) {
    const flat = await redis.zrange(scoresKey(name, p, board, windowKey), 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1]);
  }
  return out;
}

/** True when every entry of every partition was delivered and acknowledged. */
export async function drained(
  redis: Redis,
  name: string,
  group: string,
  partitions: number,
): Promise<boolean> {
  const info = await new StreamAdmin(redis, { name, group, partitions }).groupInfo();
  return info.every((p) => p.pending === 0 && (p.lag ?? 1) === 0);
}
