import fc from 'fast-check';
import { Redis } from 'ioredis';
import { partitionFor } from 'redis-streams-consumer-groups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BoardConfig, BoardRegistry, LeaderboardQueries } from '../../leaderboard/index.js';
import { stateKeys } from '../../operators/stateKeys.js';
import type { Order } from '../../operators/types.js';
import { LeaderboardModel } from '../support/leaderboardModel.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const PARTITIONS = 5;

describe('queries across partitions', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('rank, around and rank-among equal a plain model, ties included, for both orders', async () => {
    const users = fc.uniqueArray(fc.stringMatching(/^[a-zA-Zé0-9_~-]{1,6}$/), {
      minLength: 1,
      maxLength: 40,
    });
    const table = users.chain((ids) =>
      fc.tuple(
        fc.constant(ids),
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: ids.length, maxLength: ids.length }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        table,
        fc.constantFrom<Order>('desc', 'asc'),
        fc.integer({ min: 1, max: 4 }),
        async ([ids, scores], order, n) => {
          const name = uniqueName('q');
          try {
            for (let i = 0; i < ids.length; i++) {
              await redis.zadd(
                stateKeys(name, partitionFor(ids[i]!, PARTITIONS)).scores('b', 'all:0'),
                scores[i]!,
                ids[i]!,
              );
            }
            const board: BoardConfig = {
              id: 'b',
              policy: 'last',
              order,
              windows: ['all'],
              topK: 10,
              graceSeconds: 0,
              retentionDays: 1,
            };
            const model = new LeaderboardModel(new Map([['b', board]]), PARTITIONS);
            model.apply(ids.map((userId, i) => ({ board: 'b', userId, value: scores[i]!, ts: i })));
            const ranked = model.ranked('b', 'all:0', order);
            const boards = new BoardRegistry(redis, name);
            await boards.put(board);
            const queries = new LeaderboardQueries(redis, boards, { name, partitions: PARTITIONS });
            const window = queries.windowAt('b', 'all', Date.now())!;
            expect(window).toMatchObject({ window: 'all', windowStart: 0, windowEnd: null, key: 'all:0' });
            for (const [at, entry] of ranked.entries()) {
              const standing = await queries.standing('b', window, entry.userId);
              expect(standing).toMatchObject({ rank: entry.rank, score: entry.score, total: ranked.length });
              const around = await queries.around('b', window, entry.userId, n);
              expect(around).toEqual(ranked.slice(Math.max(0, at - n), at + n + 1));
            }
            const some = ids.filter((_, i) => i % 2 === 0);
            const among = await queries.rankAmong('b', window, [...some, 'nobody'], 100);
            const subset = ranked.filter((r) => some.includes(r.userId));
            expect(among.map((e) => e.userId)).toEqual(subset.map((e) => e.userId));
            expect(among.map((e) => e.score)).toEqual(subset.map((e) => e.score));
            expect(await queries.standing('b', window, 'nobody')).toBeUndefined();
          } finally {
            await dropKeys(redis, name);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
