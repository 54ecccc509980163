import fc from 'fast-check';
import { Redis } from 'ioredis';
import { partitionFor } from 'redis-streams-consumer-groups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoresKey } from '../../operators/stateKeys.js';
import type { Order } from '../../operators/types.js';
import { LeaderboardQueries } from '../../topology/queries.js';
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
                scoresKey(name, partitionFor(ids[i]!, PARTITIONS), 'b', 'all:0'),
                scores[i]!,
                ids[i]!,
              );
            }
            const model = new LeaderboardModel(
              new Map([
                [
                  'b',
                  {
                    id: 'b',
                    policy: 'last',
                    order,
                    windows: ['all'],
                    topK: 10,
                    graceSeconds: 0,
                    retentionDays: 1,
                  },
                ],
              ]),
              PARTITIONS,
            );
            model.apply(ids.map((userId, i) => ({ board: 'b', userId, value: scores[i]!, ts: i })));
            const ranked = model.ranked('b', 'all:0', order);
            const queries = new LeaderboardQueries(redis, { name, partitions: PARTITIONS });
            for (const [at, entry] of ranked.entries()) {
              const standing = await queries.standing('b', 'all:0', order, entry.userId);
              expect(standing).toMatchObject({ rank: entry.rank, score: entry.score, total: ranked.length });
              const around = await queries.around('b', 'all:0', order, entry.userId, n);
              expect(around).toEqual(ranked.slice(Math.max(0, at - n), at + n + 1));
            }
            const some = ids.filter((_, i) => i % 2 === 0);
            const among = await queries.rankAmong('b', 'all:0', order, [...some, 'nobody'], 100);
            const subset = ranked.filter((r) => some.includes(r.userId));
            expect(among.map((e) => e.userId)).toEqual(subset.map((e) => e.userId));
            expect(among.map((e) => e.score)).toEqual(subset.map((e) => e.score));
            expect(await queries.standing('b', 'all:0', order, 'nobody')).toBeUndefined();
          } finally {
            await dropKeys(redis, name);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
