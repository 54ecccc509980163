/** Reads the real system's state back for comparison with the model. */
import type { Cluster, Redis } from 'ioredis';
import { StreamAdmin } from 'redis-streams-consumer-groups';
import { expect } from 'vitest';
import type { BoardConfig } from '../../leaderboard/index.js';
import { stateKeys } from '../../operators/stateKeys.js';
import { LeaderboardModel, type ModelEvent, modelWindow } from './leaderboardModel.js';

/** Every user's score in a window, merged over the partitions. */
export async function scoreTable(
  redis: Redis | Cluster,
  name: string,
  partitions: number,
  board: string,
  windowKey: string,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let p = 0; p < partitions; p++) {
    const flat = await redis.zrange(stateKeys(name, p).scores(board, windowKey), 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1]);
  }
  return out;
}

/** True when every entry of every partition was delivered and acknowledged. */
export async function drained(
  redis: Redis | Cluster,
  name: string,
  group: string,
  partitions: number,
): Promise<boolean> {
  const info = await new StreamAdmin(redis, { name, group, partitions }).groupInfo();
  return info.every((p) => p.pending === 0 && (p.lag ?? 1) === 0);
}

/**
 * Asserts that every (board, window instance) the events touch holds exactly the scores the
 * reference model computes from them. Resolves with the model and how many tables were compared.
 */
export async function expectModelState(
  redis: Redis | Cluster,
  name: string,
  partitions: number,
  boards: readonly BoardConfig[],
  events: readonly ModelEvent[],
): Promise<{ model: LeaderboardModel; compared: number }> {
  const model = new LeaderboardModel(new Map(boards.map((b) => [b.id, b])), partitions);
  model.apply(events);
  let compared = 0;
  for (const board of boards) {
    for (const window of board.windows) {
      const keys = new Set(
        events.filter((e) => e.board === board.id).map((e) => modelWindow(board, window, e.ts).key),
      );
      for (const key of keys) {
        const actual = await scoreTable(redis, name, partitions, board.id, key);
        expect(actual, `${board.id} ${key}`).toEqual(model.table(board.id, key));
        compared++;
      }
    }
  }
  return { model, compared };
}
