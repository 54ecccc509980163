import { Redis } from 'ioredis';
import { partitionFor } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type BoardConfig,
  BoardRegistry,
  type BoardWindow,
  LeaderboardQueries,
} from '../../leaderboard/index.js';
import { stateKeys } from '../../operators/stateKeys.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const PARTITIONS = 4;
const board = (id: string, order: 'desc' | 'asc'): BoardConfig => ({
  id,
  policy: 'sum',
  order,
  windows: ['all', 'day'],
  topK: 10,
  graceSeconds: 0,
  retentionDays: 1,
});
const scoresKey = (name: string, partition: number, boardId: string, window: string) =>
  stateKeys(name, partition).scores(boardId, window);

describe('LeaderboardQueries: the reads of one turn share their commands', () => {
  for (const autoPipelining of [true, false]) {
    describe(autoPipelining ? 'on an auto-pipelining connection' : 'on a plain connection', () => {
      let redis: Redis;
      let name: string;
      let queries: LeaderboardQueries;
      /** The instance of a board's window that holds now. */
      let windowOf: (boardId: string, window?: string) => BoardWindow;
      beforeEach(async () => {
        redis = new Redis(redisUrl(), { enableAutoPipelining: autoPipelining });
        name = uniqueName('rk');
        const boards = new BoardRegistry(redis, name);
        for (const config of [board('d', 'desc'), board('a', 'asc'), board('b', 'desc')])
          await boards.put(config);
        queries = new LeaderboardQueries(redis, boards, { name, partitions: PARTITIONS });
        windowOf = (boardId, window = 'all') => queries.windowAt(boardId, window, Date.now())!;
      });
      afterEach(async () => {
        vi.restoreAllMocks();
        await dropKeys(redis, name);
        await redis.quit();
      });

      it('ranks 40 users read at once with one countBetter call per partition per turn, for both orders (ties share a rank)', async () => {
        const scores = new Map<string, number>();
        for (let i = 0; i < 40; i++) scores.set(`u${i}`, (i * 7) % 13);
        for (const board of ['d', 'a']) {
          for (const [user, score] of scores) {
            await redis.zadd(scoresKey(name, partitionFor(user, PARTITIONS), board, 'all:0'), score, user);
          }
        }
        const counted = vi.spyOn(redis, 'countBetter');
        for (const [board, order] of [
          ['d', 'desc'],
          ['a', 'asc'],
        ] as const) {
          expect(queries.store.spec(board)?.order).toBe(order);
          counted.mockClear();
          const users = [...scores.keys()];
          const window = windowOf(board);
          const standings = await Promise.all(users.map((u) => queries.standing(board, window, u)));
          // One call per partition per turn (the turn in which ZSCORE replies arrived), never one
          // per read: the replies of 40 reads come back in one or a few socket reads.
          expect(counted.mock.calls.length % PARTITIONS).toBe(0);
          expect(counted.mock.calls.length).toBeLessThanOrEqual(4 * PARTITIONS);
          standings.forEach((standing, i) => {
            const mine = scores.get(users[i]!)!;
            const better = [...scores.values()].filter((s) =>
              order === 'desc' ? s > mine : s < mine,
            ).length;
            expect(standing).toMatchObject({ userId: users[i], score: mine, rank: better + 1, total: 40 });
          });
        }
      });

      it('a failed count fails the reads waiting on it, and a later read asks again', async () => {
        const place = (user: string, score: number) =>
          redis.zadd(scoresKey(name, partitionFor(user, PARTITIONS), 'b', 'all:0'), score, user);
        for (let i = 0; i < PARTITIONS; i++) await place(`p${i}`, i);
        await place('me', 1.5);
        const counted = vi.spyOn(redis, 'countBetter').mockRejectedValue(new Error('connection lost'));
        const reads = [
          queries.standing('b', windowOf('b'), 'me'),
          queries.standing('b', windowOf('b'), 'p0'),
        ];
        for (const read of reads) await expect(read).rejects.toThrow('connection lost');
        counted.mockRestore();
        expect(await queries.standing('b', windowOf('b'), 'me')).toMatchObject({
          rank: 3,
          total: PARTITIONS + 1,
        });
      });

      it('shares one ZCARD per partition between the calls of one turn, and counts afresh in the next turn', async () => {
        for (let p = 0; p < PARTITIONS; p++) await redis.zadd(scoresKey(name, p, 'b', 'all:0'), 1, `u${p}`);
        const zcard = vi.spyOn(redis, 'zcard');

        const all = windowOf('b');
        const sameTurn = Array.from({ length: 10 }, () => queries.total('b', all));
        const other = queries.total('b', windowOf('b', 'day'));
        expect(await Promise.all(sameTurn)).toEqual(new Array(10).fill(PARTITIONS));
        expect(await other).toBe(0);
        expect(zcard).toHaveBeenCalledTimes(2 * PARTITIONS);

        // A user added after those calls is in the next turn's total.
        await redis.zadd(scoresKey(name, 2, 'b', 'all:0'), 1, 'late');
        expect(await queries.total('b', all)).toBe(PARTITIONS + 1);
        expect(zcard).toHaveBeenCalledTimes(3 * PARTITIONS);
      });

      it('a failed count fails the calls that shared it, and the next turn asks again', async () => {
        const zcard = vi.spyOn(redis, 'zcard').mockRejectedValueOnce(new Error('connection lost'));
        const shared = [queries.total('b', windowOf('b')), queries.total('b', windowOf('b'))];
        for (const call of shared) await expect(call).rejects.toThrow('connection lost');
        zcard.mockRestore();
        expect(await queries.total('b', windowOf('b'))).toBe(0);
      });
    });
  }
});
