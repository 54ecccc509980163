import { Redis } from 'ioredis';
import { partitionKeys } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import {
  type BoardConfig,
  BoardRegistry,
  EventWriter,
  LeaderboardQueries,
  LeaderboardWorkers,
} from '../../leaderboard/index.js';
import { stateKeys } from '../../operators/stateKeys.js';
import { LeaderboardModel, type ModelEvent, modelWindow } from '../support/leaderboardModel.js';
import { drained, scoreTable } from '../support/leaderboardState.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';

const PARTITIONS = 8;
const DAY = 86_400_000;

describe('the leaderboard topology on a real redis-server', () => {
  let redis: Redis;
  let name: string;
  let workers: LeaderboardWorkers | undefined;
  let writer: EventWriter;
  beforeEach(() => {
    redis = new Redis(redisUrl());
    name = uniqueName('lb');
    writer = new EventWriter(redis, { name, partitions: PARTITIONS });
  });
  afterEach(async () => {
    writer.close();
    await workers?.stop();
    await dropKeys(redis, name);
    await redis.quit();
  });

  const boardsUnderTest: BoardConfig[] = [
    {
      id: 'points',
      policy: 'sum',
      order: 'desc',
      windows: ['all', 'day', 'week', 'month'],
      topK: 5,
      graceSeconds: 60,
      retentionDays: 30,
    },
    {
      id: 'best',
      policy: 'max',
      order: 'desc',
      windows: ['all', 'day'],
      topK: 5,
      graceSeconds: 0,
      retentionDays: 30,
    },
    {
      id: 'laps',
      policy: 'min',
      order: 'asc',
      windows: ['all'],
      topK: 5,
      graceSeconds: 0,
      retentionDays: 30,
    },
    {
      id: 'level',
      policy: 'last',
      order: 'desc',
      windows: ['all', 'week'],
      topK: 5,
      graceSeconds: 0,
      retentionDays: 30,
    },
  ];

  it('counts every event exactly once: scores, late events, duplicates, bad entries, top-K, ranks, around', async () => {
    const boards = new BoardRegistry(redis, name);
    for (const board of boardsUnderTest) await boards.put(board);
    const base = Date.now() - 4 * DAY;
    let seq = 0;
    const events: ModelEvent[] = [];
    for (let i = 0; i < 3000; i++) {
      const board = boardsUnderTest[i % boardsUnderTest.length]!;
      const userId = `user-${(i * 7919) % 97}`;
      const ts = base + (i % 5 === 0 ? -3 * DAY : 0) + seq++ * 1000; // some events days late
      const event: ModelEvent = {
        board: board.id,
        userId,
        value: ((i * 31) % 50) - (board.policy === 'sum' ? 10 : 0),
        ts,
      };
      if (i % 3 === 0) event.eventId = `e${i % 600}`; // repeats of an eventId count once
      events.push(event);
    }
    for (let i = 0; i < events.length; i += 500) await writer.append(events.slice(i, i + 500));
    // An entry no decoder accepts (the field-by-field layout, a value that is no number): written
    // straight to a partition's stream.
    await redis.xadd(
      partitionKeys(name, 0).stream,
      '*',
      'b',
      'points',
      'u',
      'x',
      'v',
      'not-a-number',
      't',
      '1',
    );

    workers = new LeaderboardWorkers({
      redis,
      boards,
      name,
      partitions: PARTITIONS,
      consumer: { leaseMs: 2000, blockMs: 20 },
    });
    await workers.start();
    await waitUntil(() => drained(redis, name, 'workers', PARTITIONS), 30_000, 'all entries applied');

    const model = new LeaderboardModel(new Map(boardsUnderTest.map((b) => [b.id, b])), PARTITIONS);
    model.apply(events);
    expect(model.late.length).toBeGreaterThan(0);
    const queries = new LeaderboardQueries(redis, boards, { name, partitions: PARTITIONS });
    for (const board of boardsUnderTest) {
      for (const window of board.windows) {
        for (const key of new Set(
          events.filter((e) => e.board === board.id).map((e) => modelWindow(board, window, e.ts).key),
        )) {
          expect(await scoreTable(redis, name, PARTITIONS, board.id, key), `${board.id} ${key}`).toEqual(
            model.table(board.id, key),
          );
        }
      }
      const ranked = model.ranked(board.id, 'all:0', board.order);
      await waitUntil(
        async () => {
          const snapshot = await queries.snapshot(board.id, 'all:0');
          return snapshot && JSON.stringify(snapshot.entries) === JSON.stringify(ranked.slice(0, board.topK));
        },
        5000,
        `top-K snapshot of ${board.id}`,
      );
      const all = queries.windowAt(board.id, 'all', Date.now())!;
      for (const probe of [ranked[0]!, ranked[Math.floor(ranked.length / 2)]!, ranked[ranked.length - 1]!]) {
        const standing = await queries.standing(board.id, all, probe.userId);
        expect(standing).toMatchObject({ rank: probe.rank, score: probe.score, total: ranked.length });
        const around = await queries.around(board.id, all, probe.userId, 3);
        const at = ranked.findIndex((r) => r.userId === probe.userId);
        expect(around).toEqual(ranked.slice(Math.max(0, at - 3), at + 4));
      }
    }
    const late = await Promise.all(
      Array.from({ length: PARTITIONS }, (_, p) => redis.xlen(stateKeys(name, p).late)),
    );
    expect(late.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const dlq = await redis.xrange(partitionKeys(name, 0).dlq, '-', '+');
    expect(dlq).toHaveLength(1);
    expect(dlq[0]![1]).toContain("value: 'not-a-number' is not a finite number");
  });
});
