/**
 * The tops' invariant as a property: for random boards (every policy and order, small K), random
 * events (negative deltas, equal event times, repeated eventIds) appended in random chunks at
 * random times while two worker pipelines share the partitions and merge the same tops
 * concurrently (now and then one of them behind a slow link), once the streams are drained and a refresh interval has passed, every snapshot
 * equals a fresh merge of the partitions (`verifySnapshots`, what `leaderboard verify` runs), and
 * equals the reference model's top-K, and every user's read agrees with the model.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import {
  type BoardConfig,
  BoardRegistry,
  EventWriter,
  LeaderboardQueries,
  LeaderboardWorkers,
  type Policy,
  verifyBoards,
} from '../../leaderboard/index.js';
import type { Order } from '../../operators/types.js';
import { LeaderboardModel, type ModelEvent } from '../support/leaderboardModel.js';
import { drained } from '../support/leaderboardState.js';
import { dropKeys, redisUrl, uniqueName } from '../support/redis.js';
import { StallableLink } from '../support/stallableLink.js';

const PARTITIONS = 4;
const USERS = 12;
const MINUTE = 60_000;

interface Scenario {
  boards: { policy: Policy; order: Order; topK: number }[];
  events: { board: number; user: number; value: number; minute: number; eventId: number | null }[];
  chunks: { size: number; pauseMs: number; holdWorker: number | null }[];
  refreshMs: number;
  batchSize: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  boards: fc.array(
    fc.record({
      policy: fc.constantFrom<Policy>('sum', 'max', 'min', 'last'),
      order: fc.constantFrom<Order>('desc', 'asc'),
      topK: fc.integer({ min: 1, max: 4 }),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  events: fc.array(
    fc.record({
      board: fc.nat(2),
      user: fc.nat(USERS - 1),
      value: fc.integer({ min: -20, max: 20 }),
      // Few distinct event times: `last` meets many ties.
      minute: fc.nat(3),
      eventId: fc.option(fc.nat(40), { freq: 4 }),
    }),
    { minLength: 100, maxLength: 300 },
  ),
  // After a chunk, one worker's replies from Redis may be held for the pause (a slow link): its
  // merges and applies run at Redis but finish late, while the other worker goes on.
  chunks: fc.array(
    fc.record({
      size: fc.integer({ min: 1, max: 40 }),
      pauseMs: fc.nat(30),
      holdWorker: fc.option(fc.nat(1), { freq: 2 }),
    }),
    {
      minLength: 1,
      maxLength: 20,
    },
  ),
  refreshMs: fc.integer({ min: 5, max: 40 }),
  batchSize: fc.integer({ min: 3, max: 40 }),
});

describe('top-K snapshots (property)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });

  /** Every snapshot equals a fresh merge, and the model's top-K; every user's read, the model's. */
  async function expectInvariant(
    name: string,
    registry: BoardRegistry,
    boards: BoardConfig[],
    events: ModelEvent[],
    base: number,
  ): Promise<void> {
    const report = await verifyBoards({
      redis,
      boards: registry,
      name,
      partitions: PARTITIONS,
      settleMs: 250,
    });
    expect(report.differences).toEqual([]);
    expect(report.compared).toBeGreaterThanOrEqual(boards.length);
    const model = new LeaderboardModel(new Map(boards.map((b) => [b.id, b])), PARTITIONS);
    model.apply(events);
    const queries = new LeaderboardQueries(redis, registry, { name, partitions: PARTITIONS });
    for (const board of boards) {
      for (const window of board.windows) {
        const instance = queries.windowAt(board.id, window, base)!;
        const key = instance.key;
        const ranked = model.ranked(board.id, key, board.order);
        const snapshot = await queries.snapshot(board.id, key);
        expect(snapshot?.entries ?? [], `${board.id} ${key} top`).toEqual(ranked.slice(0, board.topK));
        for (const expected of ranked) {
          const standing = await queries.standing(board.id, instance, expected.userId);
          expect(
            { rank: standing?.rank, score: standing?.score },
            `${board.id} ${key} ${expected.userId}`,
          ).toEqual({
            rank: expected.rank,
            score: expected.score,
          });
        }
      }
    }
  }

  async function run(scenario: Scenario): Promise<void> {
    const name = uniqueName('sp');
    const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 + 3_600_000;
    const boards: BoardConfig[] = scenario.boards.map((b, i) => ({
      id: `b${i}`,
      ...b,
      windows: ['all', 'day'],
      graceSeconds: 86_400,
      retentionDays: 1,
    }));
    const events: ModelEvent[] = scenario.events.map((e) => {
      const board = boards[e.board % boards.length]!;
      const event: ModelEvent = {
        board: board.id,
        userId: `u${e.user}`,
        value: e.value,
        ts: base + e.minute * MINUTE,
      };
      if (e.eventId !== null) event.eventId = `e${e.eventId}`;
      return event;
    });
    const registry = new BoardRegistry(redis, name);
    for (const board of boards) await registry.put(board);
    const links = await Promise.all([0, 1].map(() => StallableLink.open(new URL(redisUrl()))));
    const connections = links.map((link) => new Redis(link.port, '127.0.0.1'));
    const workers = connections.map(
      (connection) =>
        new LeaderboardWorkers({
          redis: connection,
          boards: new BoardRegistry(connection, name),
          name,
          partitions: PARTITIONS,
          refreshMs: scenario.refreshMs,
          consumer: { leaseMs: 1000, blockMs: 10, batchSize: scenario.batchSize },
        }),
    );
    const writer = new EventWriter(redis, { name, partitions: PARTITIONS });
    try {
      await Promise.all(workers.map((w) => w.start()));
      // Rounds of events, each checked once drained: every quiet point is a chance for a top to
      // have been left stale.
      const rounds = 3;
      let next = 0;
      let chunkIndex = 0;
      for (let round = 1; round <= rounds; round++) {
        const end = Math.ceil((events.length * round) / rounds);
        while (next < end) {
          const chunk = scenario.chunks[chunkIndex++ % scenario.chunks.length]!;
          const part = events.slice(next, Math.min(end, next + chunk.size));
          next += part.length;
          if (part.length === 1) await writer.appendOne(part[0]!);
          else await writer.append(part);
          const held = chunk.holdWorker === null ? undefined : links[chunk.holdWorker]!;
          held?.stall('replies');
          await sleep(chunk.pauseMs);
          held?.resume();
        }
        await waitUntil(() => drained(redis, name, 'workers', PARTITIONS), 30_000, 'the streams drained');
        await sleep(scenario.refreshMs + 200);
        await expectInvariant(name, registry, boards, events.slice(0, next), base);
      }
    } finally {
      writer.close();
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(connections.map((c) => c.quit()));
      for (const link of links) link.close();
      await dropKeys(redis, name);
    }
  }

  it(
    'every snapshot equals a fresh merge and the model once drained, with merges running concurrently',
    {
      timeout: 240_000,
    },
    async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, run), { numRuns: 10, endOnFailure: true });
    },
  );
});
