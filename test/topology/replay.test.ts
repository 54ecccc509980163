import type { Redis } from 'ioredis';
import { partitionKeys, partitionTag } from 'redis-streams-consumer-groups';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../consumer-groups/test/support.js';
import {
  BoardRegistry,
  EventWriter,
  LeaderboardQueries,
  LeaderboardWorkers,
  ReplayError,
  replayBoard,
} from '../../leaderboard/index.js';
import { snapshotKey, snapshotKeyPrefix, stateKeys } from '../../operators/stateKeys.js';
import { generateRounds, MODEL_BOARDS } from '../support/eventRounds.js';
import type { ModelEvent } from '../support/leaderboardModel.js';
import { drained, expectModelState, scoreTable } from '../support/leaderboardState.js';
import { connect, dropKeys, uniqueName } from '../support/redis.js';

const PARTITIONS = 4;

describe('replay', () => {
  let redis: Redis;
  let name: string;
  let writer: EventWriter;
  let registry: BoardRegistry;
  let workers: LeaderboardWorkers | undefined;

  beforeEach(async () => {
    redis = connect();
    name = uniqueName('rp');
    writer = new EventWriter(redis, { name, partitions: PARTITIONS });
    registry = new BoardRegistry(redis, name);
    for (const board of MODEL_BOARDS) await registry.put(board);
  });

  afterEach(async () => {
    writer.close();
    await workers?.stop();
    workers = undefined;
    await dropKeys(redis, name);
    await redis.quit();
  });

  const startWorkers = async () => {
    workers = new LeaderboardWorkers({
      redis,
      boards: registry,
      name,
      partitions: PARTITIONS,
      refreshMs: 20,
      consumer: { leaseMs: 2000, blockMs: 20, batchSize: 100 },
    });
    await workers.start();
  };
  const waitDrained = () => waitUntil(() => drained(redis, name, 'workers', PARTITIONS), 60_000, 'drained');
  const replay = (board: string, extra: Partial<Parameters<typeof replayBoard>[0]> = {}) =>
    replayBoard({
      redis,
      boards: registry,
      board,
      name,
      partitions: PARTITIONS,
      chunkSize: 150,
      ...extra,
    });

  /** Every (board, window instance) the events touch equals the model's table. */
  const expectModel = async (events: ModelEvent[]) => {
    const { model, compared } = await expectModelState(redis, name, PARTITIONS, MODEL_BOARDS, events);
    expect(compared).toBeGreaterThan(10);
    return model;
  };

  /** Deletes every key of the derived state (scores, `last` times, eventId marks, snapshots). */
  const loseState = async () => {
    const patterns = MODEL_BOARDS.map((board) => `${snapshotKeyPrefix(name, board.id)}*`);
    for (let p = 0; p < PARTITIONS; p++) {
      for (const kind of ['z', 't', 'dd']) patterns.push(`${partitionTag(name, p)}:${kind}:*`);
    }
    let deleted = 0;
    for (const pattern of patterns) {
      for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
        if (keys.length > 0) deleted += await redis.del(...keys);
      }
    }
    return deleted;
  };

  it('drill 4: restores every board identical to the model after the state keys are lost', async () => {
    const events = generateRounds(7, { rounds: 12, perRound: 150 }).flat();
    await startWorkers();
    await writer.append(events);
    await waitDrained();
    const model = await expectModel(events);

    expect(await loseState()).toBeGreaterThan(20);
    expect(await scoreTable(redis, name, PARTITIONS, 'points', 'all:0')).toEqual({});

    const progress: number[] = [];
    for (const board of MODEL_BOARDS) {
      const result = await replay(board.id, { onProgress: (p) => progress.push(p.replayed) });
      expect(result.replayed).toBe(events.length);
      expect(result.swapped.length).toBeGreaterThan(0);
      expect(result.skippedPartial).toEqual([]);
    }
    await expectModel(events);
    expect(progress.length).toBeGreaterThan(MODEL_BOARDS.length * PARTITIONS);
    expect(progress.at(-1)).toBe(events.length);

    // The snapshots are written again: the top of the replayed board is the model's.
    const snapshot = await new LeaderboardQueries(redis, registry, { name, partitions: PARTITIONS }).snapshot(
      'points',
      'all:0',
    );
    expect(snapshot?.entries.map((e) => [e.userId, e.score])).toEqual(
      model
        .ranked('points', 'all:0', 'desc')
        .slice(0, 10)
        .map((e) => [e.userId, e.score]),
    );
    // No registration or shadow key is left behind.
    for (let p = 0; p < PARTITIONS; p++) {
      expect(await redis.exists(stateKeys(name, p).replay)).toBe(0);
      expect(await redis.keys(`${partitionTag(name, p)}:replay:*`)).toEqual([]);
    }
  }, 120_000);

  it('swaps in exactly once while the workers keep applying new events, retries included', async () => {
    // The second half repeats eventIds of the first: the marks must survive the swap.
    const all = generateRounds(11, { rounds: 24, perRound: 100, eventIdPrefix: 'r' });
    const [first, second] = [all.slice(0, 12).flat(), all.slice(12)];
    await startWorkers();
    await writer.append(first);
    await waitDrained();

    // Each progress report of a replay sends the next round in: the workers apply them while
    // the replays read, so some land before a partition's frontier and some after it.
    const rounds = [...second];
    const writes: Promise<unknown>[] = [];
    const onProgress = () => {
      const round = rounds.shift();
      if (round) writes.push(writer.append(round));
    };
    for (const board of MODEL_BOARDS) await replay(board.id, { chunkSize: 40, onProgress });
    expect(rounds, 'every round was sent during a replay').toEqual([]);
    await Promise.all(writes);
    await waitDrained();
    await expectModel([...first, ...second.flat()]);
  }, 120_000);

  it('leaves window instances that began before `from` as they are, and says so', async () => {
    const events = generateRounds(3, { rounds: 4, perRound: 100, boards: [MODEL_BOARDS[0]!] }).flat();
    await startWorkers();
    await writer.append(events);
    await waitDrained();
    const before = await scoreTable(redis, name, PARTITIONS, 'points', 'all:0');

    const result = await replay('points', { from: new Date(Date.now() - 3_600_000), windows: ['all'] });
    expect(result.swapped).toEqual([]);
    expect(result.skippedPartial).toEqual(['all:0']);
    expect(await scoreTable(redis, name, PARTITIONS, 'points', 'all:0')).toEqual(before);

    // With `partial`, the all-time window is rebuilt from the events since `from` only: none here.
    const partial = await replay('points', {
      from: new Date(Date.now() + 60_000),
      windows: ['all'],
      partial: true,
    });
    expect(partial.replayed).toBe(0);
    expect(await scoreTable(redis, name, PARTITIONS, 'points', 'all:0')).toEqual(before);
    expect(await redis.exists(snapshotKey(name, 'points', 'all:0'))).toBe(1);
  }, 60_000);

  it('rejects bad options and a partition held by another replay, changing nothing', async () => {
    await expect(replay('nope')).rejects.toThrow(new ReplayError("unknown board 'nope'"));
    await expect(replay('laps', { windows: ['day'] })).rejects.toThrow(/board 'laps' has no 'day' window/);
    await expect(replay('points', { from: 'yesterday' })).rejects.toThrow(/entry id .* or an ISO time/);

    await writer.append([{ board: 'points', userId: 'ann', value: 5, ts: Date.now() }]);
    await redis.hset(stateKeys(name, 2).replay, 'id', 'someone-else');
    await expect(replay('points')).rejects.toThrow(
      /partition 2 is busy with another replay \(someone-else\)/,
    );
    expect(await redis.hget(stateKeys(name, 2).replay, 'id')).toBe('someone-else');
    for (const p of [0, 1, 3]) expect(await redis.exists(stateKeys(name, p).replay)).toBe(0);
    expect(await redis.hget(partitionKeys(name, 0).checkpoint, 'id')).toBeNull();
  });
});
